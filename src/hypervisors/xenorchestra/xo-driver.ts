/**
 * The Xen Orchestra driver (Citrix Hypervisor / XCP-ng), on XO's REST API: the VM is cloned from
 * a template, ISOs are uploaded once as VDIs on an ISO SR (the name label carries the sha256) and
 * attached as read-only VBDs, power and snapshots are actions, the disk is exported as VHD.
 * Guest steps need a channel the caller provides (WinRM or SSH): XO has no guest operations.
 */
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { CheckedOnce } from "../checked-once.ts";
import type { CheckpointResult, DiskExport, DriverCapabilities, HypervisorDriver, LayerRef, Media, SnapshotResult, VmAccess, VmHandle, VmSpec } from "../driver.ts";
import { decodeSnapshotLayer, encodeSnapshotLayer, type SnapshotLayer } from "../snapshot-layer.ts";
import { VmRegistry, type TrackedVm } from "../vm-registry.ts";
import type { GuestChannel } from "../../guest/channel.ts";
import { sha256File } from "../../util/hash-file.ts";
import { mcsSnapshotPath } from "../mcs-snapshot-path.ts";
import { XoError, XoInventoryError, XoRequestError, XoTimeoutError } from "./errors.ts";
import { xoToken, type XoSettings } from "./settings.ts";
import { XoRestClient } from "./xo-rest-client.ts";
import { pause } from "../../util/pause.ts";

/** How often power state is polled while waiting. */
export const POWER_POLL_MS = 2_000;
/** Characters of the sha256 kept in an ISO VDI's name label: enough to never collide by chance. */
const SHA_LABEL_CHARS = 16;
const PARTIAL_LABEL_SUFFIX = ".partial";
/** The kind of layer reference checkpoint returns: a snapshot of the build VM. */
export const LAYER_REFERENCE_KIND = "xo-snapshot";

export class XoStateError extends XoError {}

export interface XoDriverOptions {
  readonly settings: XoSettings;
  /** Where exported disks are written. */
  readonly exportDir: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** The channel to the VM's guest (WinRM or SSH), given XO's view of the VM's address. */
  readonly guestChannel?: (vm: VmHandle, address: () => Promise<string | undefined>) => GuestChannel;
  /** @default POWER_POLL_MS (tasks too) */
  readonly pollMs?: number;
  /** @default stderr */
  readonly log?: (line: string) => void;
}

interface XoVm {
  readonly id: string;
  readonly name_label: string;
  readonly power_state: "Running" | "Halted" | "Paused" | "Suspended";
  readonly $VBDs?: readonly string[];
  readonly mainIpAddress?: string;
}

interface XoVbd {
  readonly id: string;
  readonly VDI: string;
  readonly is_cd_drive: boolean;
}

interface Named {
  readonly id: string;
  readonly name_label: string;
  readonly $SR?: string;
}

interface VmState extends TrackedVm {
  /** VBD per media role, so media can be swapped. */
  readonly vbds: Map<Media["role"], string>;
  /** The checkpoint snapshots: a VM's deletion leaves its snapshots behind, so destroy removes them. */
  readonly layers: string[];
}

export class XoDriver implements HypervisorDriver {
  readonly name = "xenorchestra";
  // VDI export: GET /rest/v0/vdis/<uuid>.vhd|raw (vatesfr/xen-orchestra,
  // packages/xo-server/src/xo-mixins/rest-api.mjs); this driver asks for VHD.
  readonly capabilities: DriverCapabilities = { layersOutliveVm: false, memoryResume: false, exportFormats: ["vhd"] };
  private readonly client: XoRestClient;
  private readonly settings: XoSettings;
  private readonly pollMs: number;
  private readonly log: (line: string) => void;
  private readonly vms = new VmRegistry<VmState>((message) => new XoStateError(message));
  private readonly inventory = new CheckedOnce();

  constructor(private readonly options: XoDriverOptions) {
    this.settings = options.settings;
    this.pollMs = options.pollMs ?? POWER_POLL_MS;
    this.client = new XoRestClient({
      url: options.settings.url,
      token: xoToken(options.settings, options.env ?? process.env),
      tokenEnv: options.settings.tokenEnv,
      pollMs: this.pollMs,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.log = options.log ?? ((line) => process.stderr.write(`xenorchestra: ${line}\n`));
  }

  /** Token, pool, template and ISO SR, checked once: errors list what exists. */
  checkInventory(signal?: AbortSignal): Promise<void> {
    return this.inventory.run(() => this.inventoryCheck(signal));
  }

  async createVm(spec: VmSpec, signal?: AbortSignal): Promise<VmHandle> {
    signal?.throwIfAborted();
    await this.checkInventory(signal);
    const base = spec.disk.baseLayer ? this.baseLayer(spec.disk.baseLayer) : undefined;
    const result = await this.client.action(`/pools/${this.settings.pool}`, "create_vm", {
      name_label: spec.name,
      name_description: `rebake golden VM (${spec.cpus} vCPU from the template, ${spec.memoryMiB} MiB)`,
      template: base?.snapshot ?? this.settings.template,
      memory: spec.memoryMiB * 1024 * 1024,
      boot: false,
      clone: true,
    }, signal);
    const id = typeof result === "string" ? result : (result as { id?: string } | undefined)?.id;
    if (!id) throw new XoError(`Xen Orchestra create_vm for ${spec.name} returned no VM id (got ${JSON.stringify(result)})`);
    const handle: VmHandle = { id, name: spec.name };
    this.vms.add({ handle, vbds: new Map(), layers: [] });
    if (signal?.aborted) {
      await this.destroy(handle);
      signal.throwIfAborted();
    }
    this.log(`${spec.name}: created VM ${id} from ${base ? `snapshot ${base.snapshot}` : `template ${this.settings.template}`}`);
    return handle;
  }

  async attachMedia(vm: VmHandle, media: readonly Media[]): Promise<void> {
    const state = this.vms.get(vm);
    const roles = new Set<Media["role"]>();
    for (const item of media) {
      if (roles.has(item.role)) throw new XoStateError(`two ${item.role} media for VM ${vm.name}`);
      roles.add(item.role);
    }
    for (const [role, vbd] of state.vbds) {
      if (roles.has(role)) continue;
      await this.client.send("DELETE", `/vbds/${vbd}`);
      state.vbds.delete(role);
    }
    for (const item of media) {
      const vdi = await this.isoVdi(item.path);
      const previous = state.vbds.get(item.role);
      if (previous) await this.client.send("DELETE", `/vbds/${previous}`);
      // @xen-orchestra/rest-api vbds/vbd.controller.mts createVbd: Xapi VBD_create params with the VM and VDI ids.
      const created = await this.client.send<{ id: string }>("POST", "/vbds", { VM: vm.id, VDI: vdi, bootable: item.role === "install", mode: "RO", type: "CD" });
      if (!created?.id) throw new XoError(`Xen Orchestra POST /vbds for ${item.path} on VM ${vm.name} returned no VBD id`);
      state.vbds.set(item.role, created.id);
    }
  }

  async powerOn(vm: VmHandle): Promise<void> {
    await this.client.action(`/vms/${this.vms.get(vm).handle.id}`, "start");
  }

  guest(vm: VmHandle): GuestChannel {
    const state = this.vms.get(vm);
    if (!state.channel) {
      if (!this.options.guestChannel) {
        throw new XoStateError(`no guest channel for VM ${vm.name}: Xen Orchestra has no guest operations; configure a WinRM or SSH channel for this stack`);
      }
      state.channel = this.options.guestChannel(vm, async () => (await this.vm(vm.id)).mainIpAddress);
    }
    return state.channel;
  }

  async waitPoweredOff(vm: VmHandle, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.vm(vm.id, signal)).power_state === "Halted") return;
      if (Date.now() >= deadline) throw new XoTimeoutError("wait for power off", vm.name, timeoutMs);
      await pause(Math.min(this.pollMs, Math.max(0, deadline - Date.now())), signal);
    }
  }

  async powerOff(vm: VmHandle): Promise<void> {
    if ((await this.vm(vm.id)).power_state !== "Halted") await this.client.action(`/vms/${vm.id}`, "hard_shutdown");
  }

  async checkpoint(vm: VmHandle, nextLayerPath: string): Promise<CheckpointResult> {
    const name = `layer-${path.basename(nextLayerPath).replace(/\.[^.]*$/, "")}`;
    const snapshot = await this.snapshotId(vm, name);
    this.vms.get(vm).layers.push(snapshot);
    return { layer: encodeSnapshotLayer({ kind: LAYER_REFERENCE_KIND, url: this.settings.url, snapshot }), stateSaved: false };
  }

  async snapshot(vm: VmHandle, name: string): Promise<SnapshotResult> {
    const power = (await this.vm(vm.id)).power_state;
    if (power !== "Halted") throw new XoStateError(`cannot snapshot VM ${vm.name} for MCS while it is ${power}: shut it down first`);
    const id = await this.snapshotId(vm, name);
    // XenServer has no resource pools in the XDHyp path (terraform-provider-citrix passes none for it).
    const placement = { resourcePools: [], snapshotChain: await this.snapshotChain(vm, id) };
    const ref = this.settings.hostingUnit ? mcsSnapshotPath(this.settings.hostingUnit, vm.name, placement) : `${this.settings.url}/rest/v0/vm-snapshots/${id}`;
    this.log(`${vm.name}: MCS snapshot ${name} (${id}): ${ref}`);
    return { ref, placement };
  }

  async exportDisk(vm: VmHandle, signal?: AbortSignal): Promise<DiskExport> {
    const state = await this.vm(vm.id);
    if (state.power_state !== "Halted") throw new XoStateError(`cannot export the disk of VM ${vm.name} while it is ${state.power_state}: shut it down first`);
    let disk: XoVbd | undefined;
    for (const vbd of state.$VBDs ?? []) {
      const candidate = await this.client.get<XoVbd>(`/vbds/${vbd}`);
      if (!candidate.is_cd_drive) {
        disk = candidate;
        break;
      }
    }
    if (!disk) throw new XoStateError(`VM ${vm.name} has no disk to export (only CD drives among its VBDs)`);
    await mkdir(this.options.exportDir, { recursive: true });
    const file = path.join(this.options.exportDir, `${vm.name}.vhd`);
    await this.client.download(`/vdis/${disk.VDI}.vhd`, file, signal);
    return { path: file, format: "vhd", dispose: () => rm(file, { force: true }) };
  }

  exportLayer(layer: LayerRef): Promise<DiskExport> {
    return Promise.reject(new XoStateError(`layer ${layer.slice(0, 120)} is a snapshot of a build VM: Xen Orchestra layers go with their VM and cannot be exported without it`));
  }

  access(vm: VmHandle): VmAccess {
    return {
      description: [
        `Xen Orchestra VM ${vm.name} (${vm.id}) on ${this.settings.url}`,
        `  web UI:  ${this.settings.url}/#/vms/${vm.id}/general`,
        `  REST:    ${this.settings.url}/rest/v0/vms/${vm.id}   (cookie authenticationToken from ${this.settings.tokenEnv})`,
      ].join("\n"),
    };
  }

  async destroy(vm: VmHandle): Promise<void> {
    const layers = (await this.vms.forget(vm))?.layers ?? [];
    let current: XoVm;
    try {
      current = await this.vm(vm.id);
    } catch (error) {
      // Cleanup may run twice: a VM XO no longer knows is already destroyed.
      if (error instanceof XoRequestError && error.status === 404) return;
      throw error;
    }
    if (current.power_state !== "Halted") await this.client.action(`/vms/${vm.id}`, "hard_shutdown");
    await this.client.send("DELETE", `/vms/${vm.id}`);
    // XO deletes a VM without its snapshots: the checkpoints would stay on the pool forever.
    await this.removeLayers(layers);
    this.log(`${vm.name}: destroyed VM ${vm.id}${layers.length ? ` and its ${layers.length} checkpoint snapshots` : ""}`);
  }

  /** The MCS golden VM stays, with the snapshot MCS points at; its checkpoint snapshots go. */
  async release(vm: VmHandle): Promise<void> {
    await this.removeLayers((await this.vms.forget(vm))?.layers ?? []);
    this.log(`${vm.name}: kept on Xen Orchestra as the build's output (${vm.id})`);
  }

  /** The ISO's VDI on the ISO SR, uploaded unless a VDI with the same sha256 label is there. */
  private async isoVdi(file: string): Promise<string> {
    const sha256 = await sha256File(file);
    const label = `${path.basename(file)}@${sha256.slice(0, SHA_LABEL_CHARS)}`;
    const existing = (await this.client.get<Named[]>("/vdis?fields=id,name_label,$SR")).find((vdi) => vdi.name_label === label && vdi.$SR === this.settings.isoSr);
    if (existing) {
      this.log(`ISO ${label} already on SR ${this.settings.isoSr} as VDI ${existing.id}`);
      return existing.id;
    }
    // Uploaded under a partial label and renamed: a broken upload never carries the final label.
    const partialLabel = `${label}${PARTIAL_LABEL_SUFFIX}`;
    const query = `raw&name_label=${encodeURIComponent(partialLabel)}`;
    let answer: string;
    try {
      answer = await this.client.upload(`/srs/${this.settings.isoSr}/vdis?${query}`, file);
    } catch (error) {
      await this.removeVdisLabelled(partialLabel);
      throw new XoError(`upload of ISO ${file} to SR ${this.settings.isoSr} failed, no VDI was left under its label: ${(error as Error).message}`);
    }
    const id = parseId(answer);
    await this.client.send("PATCH", `/vdis/${id}`, { name_label: label });
    this.log(`ISO ${label} uploaded to SR ${this.settings.isoSr} as VDI ${id}`);
    return id;
  }

  private async removeVdisLabelled(label: string): Promise<void> {
    const vdis = await this.client.get<Named[]>("/vdis?fields=id,name_label,$SR").catch(() => [] as Named[]);
    for (const vdi of vdis) {
      if (vdi.name_label === label && vdi.$SR === this.settings.isoSr) await this.client.send("DELETE", `/vdis/${vdi.id}`).catch(() => undefined);
    }
  }

  private async removeLayers(snapshots: readonly string[]): Promise<void> {
    for (const snapshot of snapshots) await this.client.send("DELETE", `/vm-snapshots/${snapshot}`);
  }

  private async snapshotId(vm: VmHandle, name: string): Promise<string> {
    const result = await this.client.action(`/vms/${vm.id}`, "snapshot", { name_label: name });
    const id = typeof result === "string" ? result : (result as { id?: string } | undefined)?.id;
    if (!id) throw new XoError(`Xen Orchestra snapshot of VM ${vm.name} returned no snapshot id (got ${JSON.stringify(result)})`);
    return id;
  }

  /**
   * The names of a VM's snapshots from the oldest ancestor down to `id`. XO exposes XAPI's
   * VM.parent as `parent` and the snapshotted VM as `$snapshot_of`
   * (packages/xo-server/src/xapi-object-to-xo.mjs); the walk stops at a parent that is not a
   * snapshot of this VM (the template or snapshot the VM was cloned from).
   */
  private async snapshotChain(vm: VmHandle, id: string): Promise<string[]> {
    const chain: string[] = [];
    const seen = new Set<string>();
    for (let current: string | undefined = id; current && !seen.has(current); ) {
      seen.add(current);
      let snapshot: { name_label: string; parent?: string; $snapshot_of?: string };
      try {
        snapshot = await this.client.get(`/vm-snapshots/${current}`);
      } catch (error) {
        if (error instanceof XoRequestError && error.status === 404 && current !== id) break;
        throw error;
      }
      if (snapshot.$snapshot_of !== vm.id) break;
      chain.unshift(snapshot.name_label);
      current = snapshot.parent;
    }
    return chain;
  }

  private async inventoryCheck(signal: AbortSignal | undefined): Promise<void> {
    const checks = [
      ["pool", "/pools", this.settings.pool],
      ["template", "/vm-templates", this.settings.template],
      ["SR", "/srs", this.settings.isoSr],
    ] as const;
    for (const [kind, collection, wanted] of checks) {
      const objects = await this.client.get<Named[]>(`${collection}?fields=id,name_label`, signal);
      if (!objects.some((object) => object.id === wanted)) throw new XoInventoryError(kind, wanted, objects.map((o) => `${o.id} (${o.name_label})`));
    }
  }

  private baseLayer(ref: LayerRef): SnapshotLayer {
    return decodeSnapshotLayer(ref, { kind: LAYER_REFERENCE_KIND, url: this.settings.url }, (message) => new XoStateError(message));
  }

  private vm(id: string, signal?: AbortSignal): Promise<XoVm> {
    return this.client.get<XoVm>(`/vms/${id}`, signal);
  }
}

/** VDI import answers the new VDI's UUID, as a JSON string, an object with id, or plain text. */
function parseId(answer: string): string {
  const text = answer.trim();
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === "string") return parsed;
    if (parsed && typeof (parsed as { id?: unknown }).id === "string") return (parsed as { id: string }).id;
  } catch {
    if (/^[\w-]+$/.test(text)) return text;
  }
  throw new XoError(`Xen Orchestra VDI import returned no VDI id (got ${text.slice(0, 200) || "nothing"})`);
}
