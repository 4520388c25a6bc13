/**
 * One driver interface for every hypervisor (QEMU, vSphere, Xen Orchestra). The runner creates,
 * boots, checkpoints and captures the golden VM through it and never knows which one it is.
 */
import type { Firmware } from "../recipe/model.ts";
import type { GuestChannel } from "../guest/channel.ts";

export interface VmSpec {
  readonly name: string;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
  readonly firmware: Firmware;
  readonly secureBoot: boolean;
  readonly tpm: boolean;
  /**
   * The disk the VM writes to: a new copy-on-write file at `path` on top of `baseLayer` (a cached
   * layer or a captured artifact, never written), or an empty disk of `diskGiB` without one.
   * The runner chooses the paths because the layer cache names layers by step hash.
   */
  readonly disk: { readonly path: string; readonly baseLayer?: string };
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

export interface DiskExport {
  readonly path: string;
  readonly format: "qcow2" | "raw" | "vmdk" | "vhd";
}

export interface HypervisorDriver {
  readonly name: string;
  createVm(spec: VmSpec, signal?: AbortSignal): Promise<VmHandle>;
  attachMedia(vm: VmHandle, media: readonly Media[]): Promise<void>;
  powerOn(vm: VmHandle): Promise<void>;
  /** A guest channel to the VM; ready once its `waitReady` resolves. */
  guest(vm: VmHandle): GuestChannel;
  /** Resolves when the VM has powered off by itself (e.g. after the OS installer finishes). */
  waitPoweredOff(vm: VmHandle, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Hard power off. */
  powerOff(vm: VmHandle): Promise<void>;
  /**
   * Freezes the layer the VM is writing now (consistently: guest filesystems flushed and frozen
   * first when the VM runs) and continues writing into a new copy-on-write child at
   * `nextLayerPath`. The frozen layer is what the layer cache keeps.
   */
  checkpoint(vm: VmHandle, nextLayerPath: string): Promise<void>;
  /** A named snapshot of the powered-off VM (what MCS points at). */
  snapshot(vm: VmHandle, name: string): Promise<{ readonly ref: string }>;
  /** The VM's disk as a file, for the offline PVS capture. */
  exportDisk(vm: VmHandle): Promise<DiskExport>;
  /** How to reach a VM kept for debugging. */
  access(vm: VmHandle): VmAccess;
  destroy(vm: VmHandle): Promise<void>;
}

export class HypervisorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
