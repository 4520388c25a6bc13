/**
 * The vSphere driver: govc through the exec layer. ISOs go to a datastore once (checksum beside
 * them), the VM gets a thin disk, a NIC on the configured network and one CD-ROM per medium;
 * guest steps run through VMware Tools guest operations. Checkpoints are vSphere snapshots of the
 * build VM: the layer reference names the snapshot, and the layer goes with the VM.
 */
import { mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { CheckedOnce } from "../checked-once.ts";
import type { CheckpointResult, DiskExport, DriverCapabilities, HypervisorDriver, LayerRef, Media, SnapshotResult, VmAccess, VmHandle, VmSpec } from "../driver.ts";
import { decodeSnapshotLayer, encodeSnapshotLayer } from "../snapshot-layer.ts";
import { VmRegistry, type TrackedVm } from "../vm-registry.ts";
import type { GuestChannel } from "../../guest/channel.ts";
import { VmwareToolsChannel } from "../../guest/vmware-tools/vmware-tools-channel.ts";
import { createExec, type Exec } from "../../util/exec.ts";
import { uploadIso } from "./datastore-upload.ts";
import { VsphereError, VsphereInventoryError, VsphereTimeoutError } from "./errors.ts";
import { Govc } from "./govc.ts";
import { mcsSnapshotPath } from "../mcs-snapshot-path.ts";
import { DEFAULT_GUEST_ID, DEFAULT_ISO_FOLDER, govcEnvironment, guestLoginEnvironment, type VsphereSettings } from "./settings.ts";
import { readVmInfo, VmNotFoundError } from "../../guest/vmware-tools/vm-info.ts";
import { readSnapshotPlacement } from "./snapshot-placement.ts";
import { pause } from "../../util/pause.ts";

/** How often power state is polled while waiting. */
export const POLL_MS = 2_000;
/** The ISO order in the VM: the installer boots from the first CD-ROM. */
const MEDIA_ORDER: readonly Media["role"][] = ["install", "answers"];
/** The kind of layer reference checkpoint returns: a snapshot of the build VM. */
export const LAYER_REFERENCE_KIND = "vsphere-snapshot";

export class VsphereStateError extends VsphereError {}

export interface VsphereDriverOptions {
  readonly settings: VsphereSettings;
  /** Where exported disks are written (one folder per VM). */
  readonly exportDir: string;
  /** @default createExec() */
  readonly exec?: Exec;
  /** Read for the credential variables the settings name. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default "govc" on PATH */
  readonly govcBinary?: string;
  /** @default stderr */
  readonly log?: (line: string) => void;
  /** @default POLL_MS */
  readonly pollMs?: number;
  /** @default VMware Tools guest operations */
  readonly guestChannel?: (vm: VmHandle, govc: Govc) => GuestChannel;
}

interface VmState extends TrackedVm {
  /** One CD-ROM device name per role, in attach order. */
  readonly cdroms: Map<Media["role"], string>;
}

export class VsphereDriver implements HypervisorDriver {
  readonly name = "vsphere";
  // export.ovf writes the VM's disks as stream-optimized VMDK (govc export.ovf; vmware/govmomi
  // govc/export/ovf.go). Memory resume would need snapshots with memory, which vcsim cannot show.
  readonly capabilities: DriverCapabilities = { layersOutliveVm: false, memoryResume: false, exportFormats: ["vmdk"] };
  private readonly govc: Govc;
  private readonly settings: VsphereSettings;
  private readonly env: NodeJS.ProcessEnv;
  private readonly log: (line: string) => void;
  private readonly pollMs: number;
  private readonly vms = new VmRegistry<VmState>((message) => new VsphereStateError(message));
  private readonly inventory = new CheckedOnce();

  constructor(private readonly options: VsphereDriverOptions) {
    this.settings = options.settings;
    this.env = options.env ?? process.env;
    this.govc = new Govc({
      exec: options.exec ?? createExec(),
      env: govcEnvironment(options.settings, this.env),
      ...(options.govcBinary ? { binary: options.govcBinary } : {}),
    });
    this.log = options.log ?? ((line) => process.stderr.write(`vsphere: ${line}\n`));
    this.pollMs = options.pollMs ?? POLL_MS;
  }

  /** Login, datastore and network, checked once before the first VM: errors list what exists. */
  checkInventory(signal?: AbortSignal): Promise<void> {
    return this.inventory.run(() => this.inventoryCheck(signal));
  }

  async createVm(spec: VmSpec, signal?: AbortSignal): Promise<VmHandle> {
    await this.checkInventory(signal);
    signal?.throwIfAborted();
    const vmPath = this.vmPath(spec.name);
    const base = spec.disk.baseLayer ? this.baseLayer(spec.disk.baseLayer) : undefined;
    const placement = [
      "-ds", this.settings.datastore,
      ...(this.settings.resourcePool ? ["-pool", this.settings.resourcePool] : []),
      ...(this.settings.folder ? ["-folder", this.settings.folder] : []),
    ];
    if (base) {
      await this.govc.run(["vm.clone", "-vm", base.vm, "-snapshot", base.snapshot, "-link", "-on=false", "-net", this.settings.network, ...placement, spec.name], opt(signal));
    } else {
      await this.govc.run([
        "vm.create",
        "-g", this.settings.guestId ?? DEFAULT_GUEST_ID,
        "-firmware", spec.firmware === "uefi" ? "efi" : "bios",
        "-c", String(spec.cpus),
        "-m", String(spec.memoryMiB),
        "-disk", `${spec.diskGiB}GB`,
        "-net", this.settings.network,
        "-on=false",
        ...placement,
        spec.name,
      ], opt(signal));
    }
    const handle: VmHandle = { id: vmPath, name: spec.name };
    this.vms.add({ handle, cdroms: new Map() });
    // A cancelled create leaves nothing behind.
    if (signal?.aborted) {
      await this.destroy(handle);
      signal.throwIfAborted();
    }
    this.log(`${spec.name}: created ${vmPath}${base ? ` as a linked clone of ${base.vm}@${base.snapshot}` : ""}`);
    return handle;
  }

  async attachMedia(vm: VmHandle, media: readonly Media[]): Promise<void> {
    const state = this.vms.get(vm);
    const byRole = new Map<Media["role"], Media>();
    for (const item of media) {
      if (byRole.has(item.role)) throw new VsphereStateError(`two ${item.role} media for VM ${vm.name}: ${byRole.get(item.role)!.path} and ${item.path}`);
      byRole.set(item.role, item);
    }
    for (const role of MEDIA_ORDER) {
      const item = byRole.get(role);
      let device = state.cdroms.get(role);
      if (!item) {
        if (device) await this.govc.run(["device.cdrom.eject", "-vm", vm.id, "-device", device]);
        continue;
      }
      const iso = await uploadIso(item.path, { govc: this.govc, datastore: this.settings.datastore, folder: this.settings.isoFolder ?? DEFAULT_ISO_FOLDER });
      this.log(`${vm.name}: ${role} ISO [${this.settings.datastore}] ${iso.datastorePath} ${iso.uploaded ? "uploaded" : "already there, same sha256"}`);
      if (!device) {
        device = (await this.govc.run(["device.cdrom.add", "-vm", vm.id])).stdout.trim();
        state.cdroms.set(role, device);
      }
      await this.govc.run(["device.cdrom.insert", "-vm", vm.id, "-device", device, "-ds", this.settings.datastore, iso.datastorePath]);
    }
  }

  async powerOn(vm: VmHandle): Promise<void> {
    this.vms.get(vm);
    await this.govc.run(["vm.power", "-on", vm.id]);
  }

  guest(vm: VmHandle): GuestChannel {
    const state = this.vms.get(vm);
    state.channel ??=
      this.options.guestChannel?.(vm, this.govc) ??
      new VmwareToolsChannel({ govc: this.govc, vm: vm.id, login: () => guestLoginEnvironment(this.settings, this.env), pollMs: this.pollMs });
    return state.channel;
  }

  async waitPoweredOff(vm: VmHandle, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await readVmInfo(this.govc, vm.id, opt(signal));
      if (info.powerState === "poweredOff") return;
      if (Date.now() >= deadline) throw new VsphereTimeoutError("wait for power off", vm.name, timeoutMs, `still ${info.powerState}`);
      await pause(Math.min(this.pollMs, Math.max(0, deadline - Date.now())), signal);
    }
  }

  async powerOff(vm: VmHandle): Promise<void> {
    const info = await readVmInfo(this.govc, vm.id);
    if (info.powerState !== "poweredOff") await this.govc.run(["vm.power", "-off", "-force", vm.id]);
  }

  async checkpoint(vm: VmHandle, nextLayerPath: string): Promise<CheckpointResult> {
    const snapshot = `layer-${path.basename(nextLayerPath).replace(/\.[^.]*$/, "")}`;
    await this.govc.run(["snapshot.create", "-vm", vm.id, "-m=false", "-q", "-d", "rebake layer checkpoint", snapshot]);
    this.log(`${vm.name}: checkpoint snapshot ${snapshot}`);
    return { layer: encodeSnapshotLayer({ kind: LAYER_REFERENCE_KIND, url: this.settings.url, vm: vm.id, snapshot }), stateSaved: false };
  }

  async snapshot(vm: VmHandle, name: string): Promise<SnapshotResult> {
    const info = await readVmInfo(this.govc, vm.id);
    if (info.powerState !== "poweredOff") throw new VsphereStateError(`cannot snapshot VM ${vm.name} for MCS while it is ${info.powerState}: shut it down first`);
    await this.govc.run(["snapshot.create", "-vm", vm.id, "-m=false", "-d", "rebake MCS master image", name]);
    // The new snapshot is the child of the VM's current one (a layer checkpoint, an earlier publish):
    // MCS needs the whole chain, read back rather than assumed.
    const placement = await readSnapshotPlacement(this.govc, vm.id);
    if (placement.snapshotChain.at(-1) !== name) throw new VsphereStateError(`VM ${vm.name}'s current snapshot is ${placement.snapshotChain.join("/")} right after taking ${name}`);
    if (this.settings.markAsTemplate) await this.govc.run(["vm.markastemplate", vm.id]);
    const ref = this.settings.hostingUnit ? mcsSnapshotPath(this.settings.hostingUnit, vm.name, placement) : `${vm.id}@${placement.snapshotChain.join("/")}`;
    this.log(`${vm.name}: MCS snapshot ${name}${this.settings.markAsTemplate ? ", marked as template" : ""}: ${ref}`);
    return { ref, placement };
  }

  async exportDisk(vm: VmHandle, signal?: AbortSignal): Promise<DiskExport> {
    const info = await readVmInfo(this.govc, vm.id, opt(signal));
    if (info.powerState !== "poweredOff") throw new VsphereStateError(`cannot export the disk of VM ${vm.name} while it is ${info.powerState}: shut it down first`);
    await mkdir(this.options.exportDir, { recursive: true });
    const finalDir = path.join(this.options.exportDir, vm.name);
    const partialDir = await mkdtemp(path.join(this.options.exportDir, `.${vm.name}-`));
    try {
      await this.govc.run(["export.ovf", "-vm", vm.id, partialDir], { timeoutMs: EXPORT_TIMEOUT_MS, ...opt(signal) });
      const vmdk = await findVmdk(partialDir);
      if (!vmdk) throw new VsphereError(`export.ovf of VM ${vm.name} wrote no .vmdk into ${partialDir}`);
      await rm(finalDir, { recursive: true, force: true });
      await rename(partialDir, finalDir);
      return { path: path.join(finalDir, path.relative(partialDir, vmdk)), format: "vmdk", dispose: () => rm(finalDir, { recursive: true, force: true }) };
    } catch (error) {
      await rm(partialDir, { recursive: true, force: true });
      throw error;
    }
  }

  exportLayer(layer: LayerRef): Promise<DiskExport> {
    return Promise.reject(new VsphereStateError(`layer ${layer.slice(0, 120)} is a snapshot of a build VM: vSphere layers go with their VM and cannot be exported without it`));
  }

  access(vm: VmHandle): VmAccess {
    const lines = [
      `vSphere VM ${vm.id} on ${this.settings.url} (datacenter ${this.settings.datacenter})`,
      `  console:  govc vm.console ${vm.id}   (with GOVC_URL, GOVC_USERNAME, GOVC_PASSWORD set)`,
      `  state:    govc vm.info ${vm.id}`,
      `  remove:   govc vm.destroy ${vm.id}`,
    ];
    return { description: lines.join("\n") };
  }

  async destroy(vm: VmHandle): Promise<void> {
    await this.vms.forget(vm);
    // Cleanup may run twice or after a half-finished create: a missing VM is already destroyed.
    let info;
    try {
      info = await readVmInfo(this.govc, vm.id);
    } catch (error) {
      if (error instanceof VmNotFoundError || /not found/i.test((error as Error).message)) return;
      throw error;
    }
    if (info.powerState !== "poweredOff" && !info.template) await this.govc.run(["vm.power", "-off", "-force", vm.id], { nothrow: true });
    await this.govc.run(["vm.destroy", vm.id]);
    this.log(`${vm.name}: destroyed ${vm.id}`);
  }

  async release(vm: VmHandle): Promise<void> {
    await this.vms.forget(vm);
    this.log(`${vm.name}: kept on vSphere as the build's output (${vm.id})`);
  }

  private async inventoryCheck(signal: AbortSignal | undefined): Promise<void> {
    await this.govc.run(["about"], opt(signal));
    const dc = `/${this.settings.datacenter}`;
    const datastores = (await this.govc.lines(["ls", `${dc}/datastore`], opt(signal))).map((p) => path.posix.basename(p));
    if (!datastores.includes(this.settings.datastore)) throw new VsphereInventoryError("datastore", this.settings.datastore, datastores);
    const networks = (await this.govc.lines(["ls", `${dc}/network`], opt(signal))).map((p) => path.posix.basename(p));
    if (!networks.includes(path.posix.basename(this.settings.network))) throw new VsphereInventoryError("network", this.settings.network, networks);
  }

  private baseLayer(ref: LayerRef): { readonly vm: string; readonly snapshot: string } {
    const layer = decodeSnapshotLayer(ref, { kind: LAYER_REFERENCE_KIND, url: this.settings.url }, (message) => new VsphereStateError(message));
    if (!layer.vm) throw new VsphereStateError(`base layer ${layer.snapshot} names no VM: the vSphere driver builds only on layers it checkpointed itself`);
    return { vm: layer.vm, snapshot: layer.snapshot };
  }

  private vmPath(name: string): string {
    const folder = this.settings.folder;
    if (folder?.startsWith("/")) return `${folder}/${name}`;
    return `/${this.settings.datacenter}/vm/${folder ? `${folder}/` : ""}${name}`;
  }
}

/** A whole disk over the network from vCenter. */
export const EXPORT_TIMEOUT_MS = 4 * 60 * 60_000;

async function findVmdk(dir: string): Promise<string | undefined> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".vmdk")) return path.join(entry.parentPath ?? entry.path, entry.name);
  }
  return undefined;
}

function opt(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}
