/**
 * The recording HypervisorDriver for unit tests (one for every test that needs a driver): it keeps
 * power state, records every call, writes empty files where real layers and companions would go
 * (so the layer cache works against it), and fails on request.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  HypervisorError,
  type CheckpointOptions,
  type CheckpointResult,
  type DiskExport,
  type DriverCapabilities,
  type HypervisorDriver,
  type LayerRef,
  type Media,
  type SnapshotResult,
  type VmAccess,
  type VmHandle,
  type VmSpec,
} from "./driver.ts";
import type { GuestChannel } from "../guest/channel.ts";
import { FakeGuestChannel } from "../guest/fake-channel.ts";

export type FakeDriverMethod = Exclude<keyof HypervisorDriver, "name" | "capabilities" | "monitor" | "distrustAccelerator">;

export interface FakeDriverCall {
  readonly method: FakeDriverMethod;
  readonly vm?: string;
  readonly args: readonly unknown[];
}

export interface FakeVm {
  readonly spec: VmSpec;
  running: boolean;
  diskPath: string;
  media: readonly Media[];
  readonly snapshots: string[];
}

export interface FakeDriverOptions {
  /** The channel each VM's guest() returns. @default a new FakeGuestChannel per VM */
  readonly guest?: (vm: VmHandle) => GuestChannel;
  /** Whether checkpointed layers outlive the VM, as QEMU's files do. @default true */
  readonly layersOutliveVm?: boolean;
  /**
   * When a running guest powers itself off: "immediately" resolves waitPoweredOff at once, "never"
   * fails it, a function decides (it may wait for the signal). @default "immediately"
   */
  readonly powerOffBehaviour?: "immediately" | "never" | ((vm: VmHandle, signal?: AbortSignal) => Promise<void>);
  /** Told of every call as it is recorded, e.g. to keep one journal with a guest channel. */
  readonly onCall?: (call: FakeDriverCall) => void;
  /** A call this returns an error for throws it (checked after failNext). */
  readonly fail?: (call: FakeDriverCall) => Error | undefined;
  /** VM ids are `<prefix><n>`. @default "fake-" */
  readonly idPrefix?: string;
}

export class FakeDriverError extends HypervisorError {}

export class FakeHypervisorDriver implements HypervisorDriver {
  readonly name = "fake";
  readonly capabilities: DriverCapabilities;
  readonly calls: FakeDriverCall[] = [];
  readonly vms = new Map<string, FakeVm>();
  private readonly failures = new Map<FakeDriverMethod, Error>();
  private readonly channels = new Map<string, GuestChannel>();
  private nextId = 1;

  constructor(private readonly options: FakeDriverOptions = {}) {
    this.capabilities = { layersOutliveVm: options.layersOutliveVm ?? true, memoryResume: false, exportFormats: ["qcow2"] };
  }

  /** The next call of `method` throws `error` (once). */
  failNext(method: FakeDriverMethod, error: Error = new FakeDriverError(`injected failure of ${method}`)): void {
    this.failures.set(method, error);
  }

  /** The method names called, in order: the usual assertion. */
  get methods(): FakeDriverMethod[] {
    return this.calls.map((call) => call.method);
  }

  async createVm(spec: VmSpec, signal?: AbortSignal): Promise<VmHandle> {
    this.record("createVm", undefined, [spec]);
    signal?.throwIfAborted();
    await touch(spec.disk.path, `disk of ${spec.name}`);
    const handle = { id: `${this.options.idPrefix ?? "fake-"}${this.nextId++}`, name: spec.name };
    this.vms.set(handle.id, { spec, running: false, diskPath: spec.disk.path, media: [], snapshots: [] });
    return handle;
  }

  async attachMedia(vm: VmHandle, media: readonly Media[]): Promise<void> {
    this.record("attachMedia", vm, [media]);
    this.vm(vm).media = [...media];
  }

  async powerOn(vm: VmHandle): Promise<void> {
    this.record("powerOn", vm, []);
    const state = this.vm(vm);
    if (state.running) throw new FakeDriverError(`VM ${vm.name} is already running`);
    state.running = true;
  }

  guest(vm: VmHandle): GuestChannel {
    this.record("guest", vm, []);
    let channel = this.channels.get(vm.id);
    if (!channel) {
      channel = this.options.guest?.(vm) ?? new FakeGuestChannel();
      this.channels.set(vm.id, channel);
    }
    return channel;
  }

  async waitPoweredOff(vm: VmHandle, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.record("waitPoweredOff", vm, [timeoutMs]);
    signal?.throwIfAborted();
    const state = this.vm(vm);
    if (!state.running) return;
    const behaviour = this.options.powerOffBehaviour ?? "immediately";
    if (behaviour === "never") throw new FakeDriverError(`VM ${vm.name} did not power off within ${timeoutMs} ms`);
    if (typeof behaviour === "function") await behaviour(vm, signal);
    state.running = false;
  }

  async powerOff(vm: VmHandle): Promise<void> {
    this.record("powerOff", vm, []);
    this.vm(vm).running = false;
  }

  /** Writes the next layer, and the UEFI variables / TPM state a VM with them would keep. */
  async checkpoint(vm: VmHandle, nextLayerPath: string, options: CheckpointOptions = {}): Promise<CheckpointResult> {
    this.record("checkpoint", vm, [nextLayerPath, options]);
    const state = this.vm(vm);
    await touch(nextLayerPath, `layer of ${vm.name}`);
    if (state.spec.firmware === "uefi" && options.saveFirmwareVars) await writeFile(options.saveFirmwareVars, `uefi variables of ${vm.name}`);
    if (state.spec.tpm && options.saveTpmState) await writeFile(options.saveTpmState, `tpm state of ${vm.name}`);
    const frozen = state.diskPath;
    state.diskPath = nextLayerPath;
    return { layer: frozen, stateSaved: false };
  }

  async snapshot(vm: VmHandle, name: string): Promise<SnapshotResult> {
    this.record("snapshot", vm, [name]);
    const state = this.vm(vm);
    if (state.running) throw new FakeDriverError(`cannot snapshot VM ${vm.name} while it runs`);
    // Like a hypervisor's snapshot tree: each snapshot is the child of the one before.
    state.snapshots.push(name);
    return { ref: `${state.diskPath}@${name}`, placement: { resourcePools: [], snapshotChain: [...state.snapshots] } };
  }

  async exportDisk(vm: VmHandle): Promise<DiskExport> {
    this.record("exportDisk", vm, []);
    return { path: this.vm(vm).diskPath, format: "qcow2" };
  }

  async exportLayer(layer: LayerRef): Promise<DiskExport> {
    this.record("exportLayer", undefined, [layer]);
    return { path: layer, format: "qcow2" };
  }

  access(vm: VmHandle): VmAccess {
    this.record("access", vm, []);
    return { description: `fake VM ${vm.name} (${vm.id})` };
  }

  async destroy(vm: VmHandle): Promise<void> {
    this.record("destroy", vm, []);
    this.vms.delete(vm.id);
    this.channels.delete(vm.id);
  }

  async release(vm: VmHandle): Promise<void> {
    this.record("release", vm, []);
    this.vms.delete(vm.id);
    this.channels.delete(vm.id);
  }

  private record(method: FakeDriverMethod, vm: VmHandle | undefined, args: readonly unknown[]): void {
    const call: FakeDriverCall = { method, ...(vm ? { vm: vm.id } : {}), args };
    this.calls.push(call);
    this.options.onCall?.(call);
    const failure = this.failures.get(method) ?? this.options.fail?.(call);
    if (failure) {
      this.failures.delete(method);
      throw failure;
    }
  }

  private vm(vm: VmHandle): FakeVm {
    const state = this.vms.get(vm.id);
    if (!state) throw new FakeDriverError(`unknown VM ${vm.name} (${vm.id})`);
    return state;
  }
}

/** A new file, never one that exists: a runner that writes over a layer is caught here. */
async function touch(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { flag: "wx" });
}
