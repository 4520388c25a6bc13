/**
 * One driver interface for every hypervisor (QEMU, vSphere, Xen Orchestra). The runner creates,
 * boots, checkpoints and captures the golden VM through it and never knows which one it is.
 */
import type { Firmware } from "../recipe/model.ts";
import type { GuestChannel } from "../guest/channel.ts";
import type { McsSnapshotPlacement } from "./mcs-snapshot-path.ts";

/**
 * A saved memory state and the sha256 it had when saved. A state is tens of MiB to gigabytes, so
 * the driver checks the digest while it allocates the VM's memory, and the guest runs nothing from
 * a state that does not match.
 */
export interface SavedVmState {
  readonly path: string;
  readonly sha256: string;
}

export interface VmSpec {
  readonly name: string;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
  readonly firmware: Firmware;
  readonly secureBoot: boolean;
  readonly tpm: boolean;
  /**
   * The disk the VM writes to: a new copy-on-write layer on top of `baseLayer` (a layer this
   * driver's `checkpoint` returned, or a captured artifact's file; never written), or an empty
   * disk of `diskGiB` without one. `path` is where a driver whose layers are local files writes
   * it: the runner's layer store names the files (the shared cache names them by step hash);
   * drivers whose layers live on the hypervisor ignore it.
   */
  readonly disk: {
    readonly path: string;
    readonly baseLayer?: LayerRef;
    /**
     * The VM's memory and device state saved with `baseLayer` (checkpoint's `saveState`): power
     * on restores it instead of booting, and boots from the layer if it does not load or does not
     * match its sha256. Optional; drivers that cannot restore state ignore it.
     */
    readonly resumeState?: SavedVmState;
    /**
     * The UEFI variable store saved with `baseLayer` (checkpoint's `saveFirmwareVars`): the VM
     * starts with a copy of it (boot entries, Secure Boot updates) instead of the firmware's empty
     * template. Ignored for BIOS VMs and by drivers that keep no variable store of their own.
     */
    readonly firmwareVars?: string;
    /**
     * The TPM state saved with `baseLayer` (checkpoint's `saveTpmState`): the VM's TPM starts
     * from it instead of a new TPM. Ignored without a TPM and by drivers whose TPM stays with the VM.
     */
    readonly tpmState?: string;
  };
}

export interface CheckpointOptions {
  /**
   * Where to keep the running VM's memory and device state as it is at the frozen layer, so a
   * later VM on that layer resumes instead of booting. Optional; drivers without it ignore it.
   */
  readonly saveState?: string;
  /**
   * Where to keep a copy of the VM's UEFI variable store as it is at the frozen layer. Ignored
   * for BIOS VMs and by drivers that keep no variable store of their own.
   */
  readonly saveFirmwareVars?: string;
  /**
   * Where to keep a copy of the VM's TPM state as it is at the frozen layer. Ignored without a
   * TPM and by drivers whose TPM stays with the VM.
   */
  readonly saveTpmState?: string;
}

/**
 * A frozen disk layer, as the driver that checkpointed it names it: a qcow2 file's path for QEMU,
 * an encoded snapshot reference for vSphere and Xen Orchestra. Opaque to the runner, which only
 * hands it back to the same driver (as a VM's `baseLayer` or to `exportLayer`).
 */
export type LayerRef = string;

export interface CheckpointResult {
  /** The layer frozen by this checkpoint. */
  readonly layer: LayerRef;
  /** Whether `saveState` was written; a failed save is logged and never fails the checkpoint. */
  readonly stateSaved: boolean;
}

/** How the last power on started the guest. */
export interface PowerOnResult {
  /** True when the saved state of `resumeState` was restored; false when the guest booted. */
  readonly resumedFromMemory: boolean;
}

export interface Media {
  /** Where the ISO is on the local machine. */
  readonly path: string;
  /** "install" boots first; "answers" carries autounattend.xml or cloud-init CIDATA. */
  readonly role: "install" | "answers";
}

export interface VmHandle {
  readonly id: string;
  readonly name: string;
}

/** Where the golden VM can be reached when the build keeps it after an error. */
export interface VmAccess {
  readonly description: string;
}

export type DiskFormat = "qcow2" | "raw" | "vmdk" | "vhd";

export interface DiskExport {
  readonly path: string;
  readonly format: DiskFormat;
  /**
   * Removes what the export wrote, when it is a copy made for the caller (an OVF export, a VDI
   * download); absent when the file is the VM's own disk, which is not the caller's to remove.
   */
  readonly dispose?: () => Promise<void>;
}

export interface SnapshotResult {
  /** The hypervisor's reference to the snapshot (the XDHyp path when the stack names a hosting unit). */
  readonly ref: string;
  /**
   * Where MCS finds the snapshot (resource pools, snapshot chain), read back after taking it.
   * Drivers whose snapshots MCS cannot use (QEMU) leave it out.
   */
  readonly placement?: McsSnapshotPlacement;
}

/** How a VM's process stopped. */
export interface VmStop {
  /** The guest powered itself off (an installer finishing, a requested shutdown). */
  readonly requestedByGuest: boolean;
  /** The driver stopped it (power off, destroy): not a failure either. */
  readonly requestedByDriver: boolean;
  /** In words: "the guest powered off", "qemu was killed by SIGKILL", "qemu exited with code 1: ...". */
  readonly description: string;
}

/** Counters that move while a guest makes progress; the watchdog compares two samples. */
export interface VmActivity {
  /** Bytes the guest wrote to its serial console so far. */
  readonly consoleBytes: number;
  /** Bytes the guest wrote to its disks so far. */
  readonly diskWrittenBytes: number;
  /** CPU time the VM's process used so far. */
  readonly cpuMs: number;
}

/** A running VM as the runner's watchdog sees it. */
export interface VmMonitor {
  /** The accelerator or platform running it, for stall reports ("kvm", "tcg"). */
  readonly accelerator: string;
  /** Settles when the VM's process stops, however it stopped. */
  readonly stopped: Promise<VmStop>;
  activity(): Promise<VmActivity>;
  /** Console output from byte `offset` on (at most a bounded chunk), and the offset after it. */
  readConsole(offset: number): Promise<{ readonly text: string; readonly offset: number }>;
}

/** The VM stopped in a way nobody asked for (killed, crashed, stopped from the host). */
export class VmStoppedError extends Error {
  constructor(
    readonly vmName: string,
    readonly stop: VmStop,
  ) {
    super(`VM ${vmName} stopped: ${stop.description}`);
    this.name = new.target.name;
  }
}

/** What a driver can do, declared once so the runner chooses instead of guessing. */
export interface DriverCapabilities {
  /**
   * Whether a checkpointed layer outlives the VM that wrote it. QEMU layers are files the layer
   * cache keeps; vSphere and Xen Orchestra checkpoints are snapshots of the build VM and go with
   * it, so the runner does not offer them to later builds.
   */
  readonly layersOutliveVm: boolean;
  /** Whether checkpoint saves the running VM's memory state and power on resumes from it. */
  readonly memoryResume: boolean;
  /** The formats `exportDisk` writes. */
  readonly exportFormats: readonly DiskFormat[];
}

export interface HypervisorDriver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  createVm(spec: VmSpec, signal?: AbortSignal): Promise<VmHandle>;
  attachMedia(vm: VmHandle, media: readonly Media[]): Promise<void>;
  powerOn(vm: VmHandle): Promise<void | PowerOnResult>;
  /** A guest channel to the VM; ready once its `waitReady` resolves. */
  guest(vm: VmHandle): GuestChannel;
  /**
   * Resolves when the guest has powered the VM off by itself (e.g. after the OS installer
   * finishes). Rejects with VmStoppedError when the VM stopped any other way (killed, crashed).
   */
  waitPoweredOff(vm: VmHandle, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /**
   * The running VM's liveness, progress counters and console, for the runner's watchdog;
   * undefined while it is not running. Drivers that cannot observe their VMs leave it out.
   */
  monitor?(vm: VmHandle): VmMonitor | undefined;
  /**
   * Stops using the accelerator that just stalled a boot, for this driver and, recorded for the
   * host, for later builds. Returns what it switched to, or undefined when there is nothing else.
   */
  distrustAccelerator?(reason: string): Promise<string | undefined>;
  /** Hard power off. */
  powerOff(vm: VmHandle): Promise<void>;
  /**
   * Freezes the layer the VM is writing now (consistently: guest filesystems flushed and frozen
   * first when the VM runs) and continues writing into a new copy-on-write child (at
   * `nextLayerPath` when the driver's layers are local files). Returns the frozen layer.
   */
  checkpoint(vm: VmHandle, nextLayerPath: string, options?: CheckpointOptions): Promise<CheckpointResult>;
  /** A named snapshot of the powered-off VM (what MCS points at). */
  snapshot(vm: VmHandle, name: string): Promise<SnapshotResult>;
  /**
   * A base layer (for VmSpec.disk.baseLayer) holding the disk of an MCS snapshot the build took,
   * so verify boots what the catalogs will get with a throwaway overlay, never writing to the
   * snapshot. Whatever it needs lives in `dir`, which the caller removes after destroying the VM.
   * Optional: drivers without it cannot verify MCS images.
   */
  snapshotLayer?(snapshot: { readonly name: string; readonly ref: string; readonly vm: { readonly name: string; readonly id: string } }, dir: string, signal?: AbortSignal): Promise<LayerRef>;
  /** The powered-off VM's disk as a local file, for the offline PVS capture. */
  exportDisk(vm: VmHandle, signal?: AbortSignal): Promise<DiskExport>;
  /**
   * A frozen layer (with the layers below it) as a local disk file, without a VM: what a rebuild
   * whose every step is cached captures. Only for drivers whose layers outlive the VM.
   */
  exportLayer(layer: LayerRef): Promise<DiskExport>;
  /** How to reach a VM kept for debugging. */
  access(vm: VmHandle): VmAccess;
  destroy(vm: VmHandle): Promise<void>;
  /**
   * Lets go of a VM that is an output of the build (the powered-off MCS golden VM that holds the
   * snapshot): frees what the driver holds locally for it, and leaves the VM on the hypervisor.
   */
  release(vm: VmHandle): Promise<void>;
}

export class HypervisorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
