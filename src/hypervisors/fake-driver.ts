/**
 * A recording HypervisorDriver for unit tests of the runner: it keeps power state, records every
 * call, writes empty files where real layers would go (so cache logic sees files appear), and
 * fails on request.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { HypervisorError, type DiskExport, type HypervisorDriver, type Media, type SnapshotResult, type VmAccess, type VmHandle, type VmSpec } from "./driver.ts";
import type { GuestChannel } from "../guest/channel.ts";
import { FakeGuestChannel } from "../guest/fake-channel.ts";

export type FakeDriverMethod = Exclude<keyof HypervisorDriver, "name" | "layersOutliveVm">;

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
  /** When the guest powers itself off: "immediately" resolves waitPoweredOff at once. @default "immediately" */
  readonly powerOffBehaviour?: "immediately" | "never";
}

export class FakeDriverError extends HypervisorError {}

export class FakeHypervisorDriver implements HypervisorDriver {
  readonly name = "fake";
  readonly layersOutliveVm: boolean;
  readonly calls: FakeDriverCall[] = [];
  readonly vms = new Map<string, FakeVm>();
  private readonly failures = new Map<FakeDriverMethod, Error>();
  private readonly channels = new Map<string, GuestChannel>();
  private nextId = 1;

  constructor(private readonly options: FakeDriverOptions = {}) {
    this.layersOutliveVm = options.layersOutliveVm ?? true;
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
    await touch(spec.disk.path);
    const handle = { id: `fake-${this.nextId++}`, name: spec.name };
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
    if ((this.options.powerOffBehaviour ?? "immediately") === "never") {
      throw new FakeDriverError(`VM ${vm.name} did not power off within ${timeoutMs} ms`);
    }
    state.running = false;
  }

  async powerOff(vm: VmHandle): Promise<void> {
    this.record("powerOff", vm, []);
    this.vm(vm).running = false;
  }

  async checkpoint(vm: VmHandle, nextLayerPath: string): Promise<void> {
    this.record("checkpoint", vm, [nextLayerPath]);
    await touch(nextLayerPath);
    this.vm(vm).diskPath = nextLayerPath;
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
    this.calls.push({ method, ...(vm ? { vm: vm.id } : {}), args });
    const failure = this.failures.get(method);
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

async function touch(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, "", { flag: "wx" });
}
