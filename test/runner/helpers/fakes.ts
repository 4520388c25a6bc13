/**
 * Recording fakes of the hypervisor driver and the guest channel for runner unit tests. They
 * record every call in one shared journal (so tests can assert order across both) and create the
 * disk files the runner expects, so the real layer cache works against them.
 */
import { writeFile } from "node:fs/promises";
import { sha256File } from "../../../src/util/hash-file.ts";
import { GuestDisconnectedError, type GuestChannel, type GuestExecOptions, type GuestExecResult } from "../../../src/guest/channel.ts";
import type { HypervisorDriver, Media, VmHandle, VmSpec } from "../../../src/hypervisors/driver.ts";

export type ExecAnswer = Partial<GuestExecResult> & { readonly hang?: boolean; readonly disconnect?: boolean };

export interface FakeOptions {
  /** Answers a guest command by its script. */
  readonly exec?: (script: string, options: GuestExecOptions) => ExecAnswer | undefined;
  /** The guest never answers (waitReady hangs until aborted). */
  readonly agentNeverAnswers?: boolean;
  /** The installer never powers off. */
  readonly installHangs?: boolean;
  /** Checkpoint fails with this error. */
  readonly checkpointError?: (nextLayerPath: string) => Error | undefined;
  /** Replaces the sha256 the guest reports for an upload. */
  readonly uploadSha256?: (localPath: string) => string | undefined;
  /** Checkpoints are snapshots of the VM (vSphere, XO) rather than files that outlive it. */
  readonly layersDieWithVm?: boolean;
  /** Called inside exec, e.g. to abort the build mid-step. */
  readonly onExec?: (script: string) => void;
}

export interface Fakes {
  readonly driver: HypervisorDriver;
  readonly journal: string[];
  readonly specs: VmSpec[];
  readonly media: (readonly Media[])[];
  readonly destroyed: string[];
}

export function createFakes(options: FakeOptions = {}): Fakes {
  const journal: string[] = [];
  const specs: VmSpec[] = [];
  const media: (readonly Media[])[] = [];
  const destroyed: string[] = [];
  let vms = 0;
  /** The layer each VM writes now. */
  const disks = new Map<string, string>();
  const waitAbort = (signal?: AbortSignal) =>
    new Promise<never>((_, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });

  const channel: GuestChannel = {
    async waitReady(_timeoutMs, signal) {
      journal.push("guest.waitReady");
      if (options.agentNeverAnswers) await waitAbort(signal);
    },
    async exec(script, execOptions) {
      journal.push(`guest.exec ${script.split("\n").at(-1)}`);
      options.onExec?.(script);
      const answer = options.exec?.(script, execOptions) ?? {};
      if (answer.hang) await waitAbort(execOptions.signal);
      if (answer.disconnect) throw new GuestDisconnectedError("the agent went away");
      const stdout = answer.stdout ?? "";
      if (stdout) execOptions.onOutput?.(stdout, "stdout");
      return { exitCode: answer.exitCode ?? 0, stdout, stderr: answer.stderr ?? "" };
    },
    async upload(localPath, guestPath) {
      journal.push(`guest.upload ${guestPath}`);
      return { sha256: options.uploadSha256?.(localPath) ?? (await sha256File(localPath)) };
    },
    async shutdown() {
      journal.push("guest.shutdown");
    },
    async reboot() {
      journal.push("guest.reboot");
    },
    async close() {
      journal.push("guest.close");
    },
  };

  const driver: HypervisorDriver = {
    name: "fake",
    capabilities: { layersOutliveVm: !options.layersDieWithVm, memoryResume: false, exportFormats: ["qcow2"] },
    async createVm(spec) {
      specs.push(spec);
      journal.push(`createVm ${spec.disk.path}${spec.disk.baseLayer ? ` base=${spec.disk.baseLayer}` : ""}`);
      await writeFile(spec.disk.path, "disk");
      const id = `vm-${++vms}`;
      disks.set(id, spec.disk.path);
      return { id, name: spec.name };
    },
    async attachMedia(_vm: VmHandle, list) {
      media.push(list);
      journal.push(`attachMedia ${list.map((m) => m.role).join(",")}`);
    },
    async powerOn() {
      journal.push("powerOn");
    },
    guest() {
      return channel;
    },
    async waitPoweredOff(_vm, _timeoutMs, signal) {
      journal.push("waitPoweredOff");
      const installing = !journal.includes("guest.waitReady");
      if (options.installHangs && installing) await waitAbort(signal);
    },
    async powerOff() {
      journal.push("powerOff");
    },
    async checkpoint(vm, next, checkpointOptions) {
      journal.push(`checkpoint ${next}`);
      const error = options.checkpointError?.(next);
      if (error) throw error;
      await writeFile(next, "layer");
      const frozen = disks.get(vm.id)!;
      disks.set(vm.id, next);
      // A UEFI VM keeps its variable store, a VM with a TPM its TPM state; this fake's hold the
      // name of the VM that wrote them.
      const spec = specs[Number(vm.id.slice("vm-".length)) - 1];
      if (spec?.firmware === "uefi" && checkpointOptions?.saveFirmwareVars) await writeFile(checkpointOptions.saveFirmwareVars, `uefi variables of ${vm.name}`);
      if (spec?.tpm && checkpointOptions?.saveTpmState) await writeFile(checkpointOptions.saveTpmState, `tpm state of ${vm.name}`);
      return { layer: frozen, stateSaved: false };
    },
    async snapshot(_vm, name) {
      journal.push(`snapshot ${name}`);
      return { ref: `snap:${name}` };
    },
    async exportDisk(vm) {
      journal.push(`exportDisk ${vm.id}`);
      return { path: disks.get(vm.id)!, format: "qcow2" };
    },
    async exportLayer(layer) {
      journal.push(`exportLayer ${layer}`);
      return { path: layer, format: "qcow2" };
    },
    access(vm) {
      return { description: `fake console of ${vm.name}` };
    },
    async destroy(vm) {
      journal.push(`destroy ${vm.id}`);
      destroyed.push(vm.id);
    },
    async release(vm) {
      journal.push(`release ${vm.id}`);
    },
  };
  return { driver, journal, specs, media, destroyed };
}
