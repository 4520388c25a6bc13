/**
 * The local default hypervisor: qemu-system-x86_64 as a child process per VM, controlled over QMP,
 * its disk a qcow2 layer chain built with qemu-img, its guest reached through the guest agent.
 * Every process the driver starts is tracked and killed on power off, destroy, failure and exit.
 */
import { spawn as nodeSpawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { createWriteStream, existsSync } from "node:fs";
import { chmod, copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  HypervisorError,
  type CheckpointOptions,
  type CheckpointResult,
  type DiskExport,
  type DriverCapabilities,
  type HypervisorDriver,
  type LayerRef,
  type Media,
  type PowerOnResult,
  type SavedVmState,
  type SnapshotResult,
  type VmAccess,
  type VmActivity,
  type VmHandle,
  type VmMonitor,
  type VmSpec,
  type VmStop,
  VmStoppedError,
} from "../driver.ts";
import { createExec, type Exec } from "../../util/exec.ts";
import { sha256File } from "../../util/hash-file.ts";
import { QgaChannel, type QuiescingGuestChannel } from "../../guest/qga/qga-channel.ts";
import { AgentPortState } from "./agent-port.ts";
import { abortError } from "../../guest/qga/qga-connection.ts";
import { buildQemuArgs, DEVICE_IDS, type QemuMachine, type UefiVars } from "./command-line.ts";
import { createEmptyDisk, createInternalSnapshot, createOverlay, exportInternalSnapshot } from "./disk-image.ts";
import { findUefiFirmware } from "./firmware.ts";
import { recordAccelChoice } from "./accel-cache.ts";
import { ACCEL_ENV, chooseAccel, qemuVersion, type AccelChoice } from "./kvm-probe.ts";
import { processCpuMs } from "./process-cpu.ts";
import { QmpClient } from "./qmp-client.ts";
import { loadVmState, saveVmState, VmStateFileError } from "./vm-state.ts";
import { startSwtpm, swtpmPaths, tpmStateFile } from "./swtpm.ts";
import { TrackedProcess, type ProcessExit } from "./tracked-process.ts";
import { tiedToParent } from "../../util/tied-to-parent.ts";
import { readFrom } from "../../util/read-from.ts";

/** QEMU opens its QMP socket before the guest starts; this covers a slow first start of the binary. */
export const QMP_CONNECT_TIMEOUT_MS = 30_000;
/** How long `quit` gets before the process is signalled. */
export const QUIT_GRACE_MS = 5_000;
/** A consistent checkpoint needs the agent; a running guest answers well within this. */
export const CHECKPOINT_AGENT_TIMEOUT_MS = 30_000;
/** A restored guest's agent answers at once (it was running); a hung restore is given up after this. */
export const RESUME_AGENT_TIMEOUT_MS = 30_000;
/** Unix socket paths are limited to 108 bytes including the terminating NUL. */
const UNIX_PATH_MAX = 107;
const CONNECT_RETRY_MS = 50;
/** The watchdog reads the console in chunks of at most this, so a chatty guest cannot flood memory. */
const CONSOLE_CHUNK_BYTES = 256 * 1024;
/** A QMP query the watchdog makes; QEMU's main loop answers at once even when the guest is stuck. */
const QMP_QUERY_TIMEOUT_MS = 5_000;
const MIN_MEMORY_MIB = 64;
/** Read-only for everyone: a frozen layer is the cache's, and only read through backing chains. */
const FROZEN_LAYER_MODE = 0o444;

export class VmSpecError extends HypervisorError {}
export class VmStateError extends HypervisorError {}
export class VmTimeoutError extends HypervisorError {}
export class QemuStartError extends HypervisorError {}

export interface QemuDriverOptions {
  /** Where each VM gets its directory (sockets, logs, NVRAM, TPM state). Keep it short: socket paths. */
  readonly runtimeDir: string;
  /** Runs qemu-img. @default createExec() */
  readonly exec?: Exec;
  /** Starts qemu-system-x86_64 and swtpm. @default node:child_process spawn */
  readonly spawn?: typeof nodeSpawn;
  /** Read for REBAKE_ACCEL=kvm|tcg. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** One line per notable decision (accelerator, firmware, snapshots). @default stderr */
  readonly log?: (line: string) => void;
  /** @default "qemu-system-x86_64" */
  readonly qemuBinary?: string;
  /** @default "swtpm" */
  readonly swtpmBinary?: string;
  /** Where OVMF is looked up. @default ["/usr/share/OVMF"] */
  readonly firmwareDirs?: readonly string[];
  /** Keeps the KVM probe's answer under `<accelCacheDir>/accel/` across builds. @default memory only */
  readonly accelCacheDir?: string;
  /** Skips the probe; REBAKE_ACCEL still wins over it. */
  readonly accel?: AccelChoice["accel"];
  /** @default QMP_CONNECT_TIMEOUT_MS */
  readonly qmpConnectTimeoutMs?: number;
  /** The channel to a VM's guest. @default the QEMU guest agent on the VM's virtio-serial socket */
  readonly guestChannel?: (vm: VmHandle, agentSocket: string) => QuiescingGuestChannel;
  /**
   * Starts qemu and swtpm so the kernel kills them when this process dies, even by SIGKILL
   * (setpriv --pdeathsig): no VM outlives the build or test that started it. @default true
   */
  readonly tieToParent?: boolean;
  /** CPU time of a process by pid, for the watchdog. @default /proc/<pid>/stat */
  readonly cpuMs?: (pid: number) => Promise<number>;
}

interface VmState {
  readonly handle: VmHandle;
  readonly spec: VmSpec;
  readonly dir: string;
  readonly paths: { readonly qmp: string; readonly operatorQmp: string; readonly qga: string; readonly serial: string; readonly qemuLog: string };
  readonly uefi?: UefiVars;
  /** The layer QEMU writes to; moves to the new child on every checkpoint. */
  diskPath: string;
  media: { install?: string; answers?: string };
  qemu?: TrackedProcess;
  swtpm?: TrackedProcess;
  qmp?: QmpClient;
  channel?: QuiescingGuestChannel;
  /** Whether the guest has the agent's port open, from QMP events. */
  readonly agentPort: AgentPortState;
  /** The saved state the next power on restores (spec.disk.resumeState), until it is used. */
  resumeState?: SavedVmState;
  /** The last QMP SHUTDOWN event of the running process: whether the guest asked for it. */
  shutdownEvent?: { readonly guest: boolean; readonly reason: string };
  /** Set while the driver itself stops the VM (power off, destroy). */
  stopping: boolean;
  /** How the current (or last) run of the VM ended; pending while it runs. */
  stopped?: Promise<VmStop>;
  lastStop?: VmStop;
  /** The accelerator of the current run. */
  accel?: string;
}

export class QemuDriver implements HypervisorDriver {
  readonly name = "qemu";
  // Layers are qcow2 files the layer cache keeps; `migrate` to a file saves the memory state.
  readonly capabilities: DriverCapabilities = { layersOutliveVm: true, memoryResume: true, exportFormats: ["qcow2"] };
  private readonly vms = new Map<string, VmState>();
  private readonly exec: Exec;
  private readonly spawn: typeof nodeSpawn;
  private readonly log: (line: string) => void;
  private readonly qemuBinary: string;
  private accelChoice: Promise<AccelChoice> | undefined;

  constructor(private readonly options: QemuDriverOptions) {
    this.exec = options.exec ?? createExec();
    this.spawn = options.spawn ?? nodeSpawn;
    this.log = options.log ?? ((line) => process.stderr.write(`qemu: ${line}\n`));
    this.qemuBinary = options.qemuBinary ?? "qemu-system-x86_64";
  }

  async createVm(spec: VmSpec, signal?: AbortSignal): Promise<VmHandle> {
    checkSpec(spec);
    const id = `${slug(spec.name)}-${randomBytes(3).toString("hex")}`;
    const dir = path.resolve(this.options.runtimeDir, id);
    const paths = {
      qmp: path.join(dir, "qmp.sock"),
      operatorQmp: path.join(dir, "qmp-operator.sock"),
      qga: path.join(dir, "qga.sock"),
      serial: path.join(dir, "serial.log"),
      qemuLog: path.join(dir, "qemu.log"),
    };
    for (const socket of [paths.qmp, paths.operatorQmp, paths.qga, swtpmPaths(dir).socket]) {
      if (Buffer.byteLength(socket) > UNIX_PATH_MAX) {
        throw new VmSpecError(`socket path ${socket} is longer than ${UNIX_PATH_MAX} bytes: use a shorter runtime directory than ${this.options.runtimeDir}`);
      }
    }
    const diskPath = path.resolve(spec.disk.path);
    if (existsSync(diskPath)) throw new VmSpecError(`disk ${diskPath} for VM ${spec.name} already exists: the driver never overwrites a layer; pick a new path`);
    await mkdir(dir, { recursive: true });
    // The accelerator is decided while the disk is made, so a KVM probe is setup time, not boot time.
    const accel = this.accel();
    accel.catch(() => undefined);
    try {
      throwIfAborted(signal);
      await mkdir(path.dirname(diskPath), { recursive: true });
      if (spec.disk.baseLayer) await createOverlay(this.exec, path.resolve(spec.disk.baseLayer), diskPath);
      else await createEmptyDisk(this.exec, diskPath, spec.diskGiB);
      throwIfAborted(signal);
      let uefi: UefiVars | undefined;
      if (spec.firmware === "uefi") {
        const firmware = findUefiFirmware(spec.secureBoot, this.options.firmwareDirs ? { dirs: this.options.firmwareDirs } : {});
        const vars = path.join(dir, "OVMF_VARS.fd");
        await copyFile(await this.varsSource(spec, firmware.varsTemplate), vars);
        uefi = { code: firmware.code, vars, secureBoot: spec.secureBoot };
        this.log(`${spec.name}: UEFI ${firmware.code}${spec.secureBoot ? " (secure boot)" : ""}`);
      }
      if (spec.tpm && spec.disk.tpmState) {
        const file = tpmStateFile(swtpmPaths(dir));
        await mkdir(path.dirname(file), { recursive: true });
        await copyFile(path.resolve(spec.disk.tpmState), file);
      }
      await accel;
      const handle: VmHandle = { id, name: spec.name };
      this.vms.set(id, { handle, spec, dir, paths, ...(uefi ? { uefi } : {}), diskPath, media: {}, agentPort: new AgentPortState(DEVICE_IDS.agentPort), stopping: false, ...(spec.disk.resumeState ? { resumeState: { ...spec.disk.resumeState, path: path.resolve(spec.disk.resumeState.path) } } : {}) });
      return handle;
    } catch (error) {
      // A failed create leaves nothing behind.
      await rm(dir, { recursive: true, force: true });
      await rm(diskPath, { force: true });
      throw error;
    }
  }

  async attachMedia(vm: VmHandle, media: readonly Media[]): Promise<void> {
    const state = this.state(vm);
    const next: { install?: string; answers?: string } = {};
    for (const item of media) {
      if (next[item.role]) throw new VmSpecError(`two ${item.role} media for VM ${vm.name}: ${next[item.role]} and ${item.path}`);
      const file = path.resolve(item.path);
      if (!existsSync(file)) throw new VmSpecError(`${item.role} medium ${file} for VM ${vm.name} does not exist`);
      next[item.role] = file;
    }
    if (state.qmp?.isOpen) {
      for (const role of ["install", "answers"] as const) {
        if (next[role] === state.media[role]) continue;
        const id = DEVICE_IDS[role];
        const file = next[role];
        if (file) await state.qmp.execute("blockdev-change-medium", { id, filename: file, format: "raw", "read-only-mode": "read-only" });
        else await state.qmp.execute("eject", { id, force: true });
      }
    }
    state.media = next;
  }

  async powerOn(vm: VmHandle): Promise<PowerOnResult> {
    const state = this.state(vm);
    if (state.qemu?.running) throw new VmStateError(`VM ${vm.name} is already running (qemu pid ${state.qemu.pid})`);
    const saved = state.resumeState;
    // Only the first power on resumes: the disk has moved on from the saved state after that.
    delete state.resumeState;
    if (saved && existsSync(saved.path)) {
      const started = Date.now();
      // Read while QEMU allocates the guest's memory; checked before the guest runs from the state.
      const matches = sha256File(saved.path).then((digest) => digest === saved.sha256, () => false);
      try {
        await this.start(state, { preallocThreads: availableParallelism() });
        await loadVmState(state.qmp!, state.qemu!, saved.path);
        if (!(await matches)) throw new VmStateFileError("its content does not match the sha256 recorded when it was saved");
        await state.qmp!.execute("cont");
        // A state that loads into a guest that then never answers is as unusable as one that fails.
        await this.guest(vm).waitReady(RESUME_AGENT_TIMEOUT_MS);
        await this.thawAfterResume(state);
        this.log(`${vm.name}: resumed from the saved state ${saved.path} in ${Date.now() - started} ms (no boot)`);
        return { resumedFromMemory: true };
      } catch (error) {
        this.log(`${vm.name}: the saved state ${saved.path} did not load (${(error as Error).message}); removed it and booting from the layer instead`);
        await this.stopProcesses(state);
        await rm(saved.path, { force: true });
        // The resumed guest may have written into the new layer before it was given up: start it afresh.
        const base = state.spec.disk.baseLayer;
        if (base) {
          await rm(state.diskPath, { force: true });
          await createOverlay(this.exec, path.resolve(base), state.diskPath);
        }
      }
    }
    await this.start(state);
    return { resumedFromMemory: false };
  }

  /**
   * The state was saved while the guest filesystems were frozen for the checkpoint; they stay
   * frozen after the restore until thawed. Its clock stopped at the save, which breaks anything
   * checking certificates or timestamps. A guest whose agent cannot do either still runs, so
   * this only logs.
   */
  private async thawAfterResume(state: VmState): Promise<void> {
    const channel = this.guest(state.handle);
    try {
      await channel.thawFilesystems();
    } catch (error) {
      this.log(`${state.handle.name}: could not thaw the guest filesystems after the resume: ${(error as Error).message}`);
    }
    await channel.setClock?.(new Date()).catch((error: Error) => {
      this.log(`${state.handle.name}: could not set the guest clock after the resume: ${error.message}`);
    });
  }

  private async start(state: VmState, incoming?: QemuMachine["incoming"]): Promise<void> {
    const vm = state.handle;
    const accel = await this.accel();
    try {
      if (state.spec.tpm) {
        state.swtpm = await startSwtpm(swtpmPaths(state.dir), {
          spawn: this.spawn,
          label: `VM ${vm.name}`,
          tieToParent: this.options.tieToParent ?? true,
          ...(this.options.swtpmBinary ? { binary: this.options.swtpmBinary } : {}),
        });
      }
      await rm(state.paths.qmp, { force: true });
      await rm(state.paths.qga, { force: true });
      const machine: QemuMachine = {
        name: vm.name,
        accel,
        cpus: state.spec.cpus,
        memoryMiB: state.spec.memoryMiB,
        diskPath: state.diskPath,
        ...(state.uefi ? { uefi: state.uefi } : {}),
        ...(state.spec.tpm ? { tpmSocket: swtpmPaths(state.dir).socket } : {}),
        media: state.media,
        qmpSocket: state.paths.qmp,
        operatorQmpSocket: state.paths.operatorQmp,
        qgaSocket: state.paths.qga,
        serialLog: state.paths.serial,
        ...(incoming ? { incoming } : {}),
      };
      const [command, args] = tiedToParent(this.qemuBinary, buildQemuArgs(machine), this.options.tieToParent ?? true);
      const child = this.spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
      child.stderr?.pipe(createWriteStream(state.paths.qemuLog, { flags: "a" }));
      const qemu = new TrackedProcess(child, `qemu for VM ${vm.name}`);
      state.qemu = qemu;
      state.accel = accel;
      state.stopping = false;
      delete state.shutdownEvent;
      state.stopped = qemu.exited.then((exit) => this.onQemuExit(state, qemu, exit));
      state.agentPort.reset();
      state.qmp = await this.connectQmp(state, qemu);
      state.qmp.onEvent((event) => {
        // The guest opens the agent port seconds after start, long after QMP is connected.
        state.agentPort.onEvent(event);
        // QEMU names who asked for a shutdown: the guest, or the host (a signal, QMP quit).
        if (event.event === "SHUTDOWN") state.shutdownEvent = { guest: event.data?.["guest"] === true, reason: String(event.data?.["reason"] ?? "") };
      });
      this.log(`${vm.name}: started qemu pid ${qemu.pid} (${accel}${incoming ? ", waiting for a saved state" : ""})`);
    } catch (error) {
      await this.stopProcesses(state);
      throw error;
    }
  }

  guest(vm: VmHandle): QuiescingGuestChannel {
    const state = this.state(vm);
    state.channel ??= this.options.guestChannel?.(vm, state.paths.qga) ?? new QgaChannel({ socketPath: state.paths.qga, agentPort: state.agentPort });
    return state.channel;
  }

  async waitPoweredOff(vm: VmHandle, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const state = this.state(vm);
    await this.waitExited(state, timeoutMs, signal);
    const stop = await state.stopped;
    // Only a power off the guest asked for ends an install: a killed or crashed VM is a failure.
    if (stop && !stop.requestedByGuest && !stop.requestedByDriver) throw new VmStoppedError(vm.name, stop);
  }

  monitor(vm: VmHandle): VmMonitor | undefined {
    const state = this.state(vm);
    const qemu = state.qemu;
    if (!qemu?.running || !state.stopped) return undefined;
    const cpuMs = this.options.cpuMs ?? processCpuMs;
    return {
      accelerator: state.accel ?? "unknown",
      stopped: state.stopped,
      activity: async (): Promise<VmActivity> => {
        const [consoleBytes, diskWrittenBytes, cpu] = await Promise.all([
          stat(state.paths.serial).then((s) => s.size, () => 0),
          this.diskWrittenBytes(state),
          qemu.pid === undefined ? Promise.resolve(0) : cpuMs(qemu.pid).catch(() => 0),
        ]);
        return { consoleBytes, diskWrittenBytes, cpuMs: cpu };
      },
      readConsole: (offset) => readFrom(state.paths.serial, offset, CONSOLE_CHUNK_BYTES),
    };
  }

  /** Bytes written to the VM's block devices (QMP query-blockstats); 0 when QMP is gone. */
  private async diskWrittenBytes(state: VmState): Promise<number> {
    if (!state.qmp?.isOpen) return 0;
    try {
      const stats = (await state.qmp.execute("query-blockstats", undefined, QMP_QUERY_TIMEOUT_MS)) as { stats?: { wr_bytes?: number } }[];
      return stats.reduce((sum, device) => sum + (device.stats?.wr_bytes ?? 0), 0);
    } catch {
      return 0;
    }
  }

  async distrustAccelerator(reason: string): Promise<string | undefined> {
    const current = this.accelChoice ? (await this.accelChoice).accel : undefined;
    const env = this.options.env ?? process.env;
    // An explicit REBAKE_ACCEL is the user's word, and TCG has nothing to fall back to.
    if (current !== "kvm" || env[ACCEL_ENV]) return undefined;
    const choice: AccelChoice = { accel: "tcg", reason };
    this.accelChoice = Promise.resolve(choice);
    if (this.options.accelCacheDir) {
      const file = await recordAccelChoice(choice, { dir: this.options.accelCacheDir, qemuVersion: () => qemuVersion(this.qemuBinary, this.spawn) });
      this.log(`accelerator tcg from now on${file ? ` (recorded for this host in ${file})` : ""}: ${reason}`);
    } else {
      this.log(`accelerator tcg from now on: ${reason}`);
    }
    return "tcg";
  }

  private async waitExited(state: VmState, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const vm = state.handle;
    const qemu = state.qemu;
    if (!qemu?.running) return;
    throwIfAborted(signal);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        qemu.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new VmTimeoutError(`VM ${vm.name} did not power off within ${timeoutMs} ms (serial log: ${this.state(vm).paths.serial})`)), timeoutMs);
        }),
        new Promise<never>((_, reject) => {
          if (!signal) return;
          onAbort = () => reject(abortError(signal));
          signal.addEventListener("abort", onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  async powerOff(vm: VmHandle): Promise<void> {
    await this.stopProcesses(this.state(vm));
  }

  async checkpoint(vm: VmHandle, nextLayerPath: string, options: CheckpointOptions = {}): Promise<CheckpointResult> {
    const state = this.state(vm);
    const next = path.resolve(nextLayerPath);
    if (existsSync(next)) throw new VmSpecError(`checkpoint layer ${next} for VM ${vm.name} already exists: pick a new path`);
    await mkdir(path.dirname(next), { recursive: true });
    const frozen = state.diskPath;
    if (state.qmp?.isOpen) {
      const channel = this.guest(vm);
      await channel.waitReady(CHECKPOINT_AGENT_TIMEOUT_MS).catch((error: Error) => {
        throw new VmStateError(`cannot checkpoint running VM ${vm.name} consistently: ${error.message}; power it off first`);
      });
      const quiesced = await channel.freezeFilesystems();
      const qmp = state.qmp;
      let stateSaved = false;
      try {
        // Stopped, the guest's memory stays exactly at the frozen layer's content: the state saved
        // after the snapshot pairs with that layer and an empty child.
        if (options.saveState) await qmp.execute("stop");
        try {
          await qmp.execute("blockdev-snapshot-sync", { device: DEVICE_IDS.disk, "snapshot-file": next, format: "qcow2", mode: "absolute-paths" });
          if (options.saveState) stateSaved = await this.saveState(state, qmp, path.resolve(options.saveState));
          await this.saveCompanions(state, options);
        } finally {
          if (options.saveState) await qmp.execute("cont");
        }
      } finally {
        if (quiesced === "frozen") await channel.thawFilesystems();
      }
      this.log(`${vm.name}: checkpoint of the running VM (${quiesced}${stateSaved ? ", state saved" : ""}): ${frozen} -> ${next}`);
      state.diskPath = next;
      await chmod(frozen, FROZEN_LAYER_MODE);
      return { layer: frozen, stateSaved };
    }
    await createOverlay(this.exec, frozen, next);
    await this.saveCompanions(state, options);
    this.log(`${vm.name}: checkpoint of the powered-off VM: ${frozen} -> ${next}`);
    state.diskPath = next;
    await chmod(frozen, FROZEN_LAYER_MODE);
    return { layer: frozen, stateSaved: false };
  }

  /**
   * The variables saved with the base layer, when they fit this firmware's store (another OVMF
   * build has another size); else the empty template.
   */
  private async varsSource(spec: VmSpec, template: string): Promise<string> {
    if (!spec.disk.firmwareVars) return template;
    const saved = path.resolve(spec.disk.firmwareVars);
    const [savedSize, templateSize] = await Promise.all([stat(saved).then((s) => s.size, () => -1), stat(template).then((s) => s.size)]);
    if (savedSize === templateSize) return saved;
    this.log(`${spec.name}: the UEFI variables saved with the layer (${saved}) do not fit ${template}; starting from the empty template`);
    return template;
  }

  /** Copies of the VM's UEFI variable store and TPM state, for the VMs later built on the layer. */
  private async saveCompanions(state: VmState, options: CheckpointOptions): Promise<void> {
    if (options.saveFirmwareVars && state.uefi) await copyComplete(state.uefi.vars, path.resolve(options.saveFirmwareVars));
    const tpm = tpmStateFile(swtpmPaths(state.dir));
    // swtpm writes its permanent state once the TPM is first initialised; before that there is none.
    if (options.saveTpmState && state.spec.tpm && existsSync(tpm)) await copyComplete(tpm, path.resolve(options.saveTpmState));
  }

  /** A state that cannot be saved costs the next build a boot, not this build its checkpoint. */
  private async saveState(state: VmState, qmp: QmpClient, target: string): Promise<boolean> {
    const started = Date.now();
    try {
      const bytes = await saveVmState(qmp, target);
      this.log(`${state.handle.name}: saved the VM state to ${target} (${bytes} bytes in ${Date.now() - started} ms)`);
      return true;
    } catch (error) {
      this.log(`${state.handle.name}: could not save the VM state to ${target}: ${(error as Error).message}; a resume will boot instead`);
      return false;
    }
  }

  async snapshot(vm: VmHandle, name: string): Promise<SnapshotResult> {
    const state = this.requirePoweredOff(vm, "snapshot");
    if (!/^[\w.-]+$/.test(name)) throw new VmSpecError(`snapshot name must be letters, digits, '.', '_' or '-', got: "${name}"`);
    await createInternalSnapshot(this.exec, state.diskPath, name);
    return { ref: `${state.diskPath}@${name}` };
  }

  /** The snapshot's disk copied out of the golden VM's qcow2 (`<disk>@<name>`, what snapshot returned). */
  async snapshotLayer(snapshot: { readonly name: string; readonly ref: string }, dir: string, signal?: AbortSignal): Promise<string> {
    const at = snapshot.ref.lastIndexOf("@");
    const disk = snapshot.ref.slice(0, at);
    if (at < 0 || snapshot.ref.slice(at + 1) !== snapshot.name || !existsSync(disk)) {
      throw new VmSpecError(`snapshot ${snapshot.name} is not a QEMU snapshot this machine holds (ref ${snapshot.ref}); verify it on the hypervisor that built it`);
    }
    const layer = path.join(dir, `${snapshot.name}.qcow2`);
    await exportInternalSnapshot(this.exec, disk, snapshot.name, layer, signal);
    return layer;
  }

  /** The VM's own top layer, read through its chain: no copy is made. */
  async exportDisk(vm: VmHandle): Promise<DiskExport> {
    return { path: this.requirePoweredOff(vm, "export the disk of").diskPath, format: "qcow2" };
  }

  /** A layer is its qcow2 file, read through its chain. */
  async exportLayer(layer: LayerRef): Promise<DiskExport> {
    const file = path.resolve(layer);
    if (!existsSync(file)) throw new VmSpecError(`layer ${file} does not exist`);
    return { path: file, format: "qcow2" };
  }

  access(vm: VmHandle): VmAccess {
    const state = this.state(vm);
    const lines = [
      `QEMU VM ${vm.name}${state.qemu?.running ? ` (pid ${state.qemu.pid})` : " (powered off)"} in ${state.dir}`,
      `  QMP:          socat - UNIX-CONNECT:${state.paths.operatorQmp}`,
      `  guest agent:  socat - UNIX-CONNECT:${state.paths.qga}`,
      `  serial log:   ${state.paths.serial}`,
      `  disk:         ${state.diskPath}`,
    ];
    return { description: lines.join("\n") };
  }

  async destroy(vm: VmHandle): Promise<void> {
    const state = this.vms.get(vm.id);
    // Cleanup stacks may call destroy twice; the second call has nothing left to do.
    if (!state) return;
    await this.stopProcesses(state);
    await state.channel?.close();
    this.vms.delete(vm.id);
    await rm(state.dir, { recursive: true, force: true });
  }

  /** A QEMU VM is its processes and runtime dir; its disk files belong to the runner and stay. */
  release(vm: VmHandle): Promise<void> {
    return this.destroy(vm);
  }

  private accel(): Promise<AccelChoice["accel"]> {
    const env = this.options.env ?? process.env;
    const callerChoice = this.options.accel;
    this.accelChoice ??= (
      callerChoice && !env[ACCEL_ENV]
        ? Promise.resolve({ accel: callerChoice, reason: "chosen by the caller" })
        : chooseAccel({ qemuBinary: this.qemuBinary, spawn: this.spawn, env, ...(this.options.accelCacheDir ? { cacheDir: this.options.accelCacheDir } : {}) })
    ).then((choice) => {
      this.log(`accelerator ${choice.accel}: ${choice.reason}`);
      return choice;
    });
    return this.accelChoice.then((choice) => choice.accel);
  }

  private async connectQmp(state: VmState, qemu: TrackedProcess): Promise<QmpClient> {
    const timeoutMs = this.options.qmpConnectTimeoutMs ?? QMP_CONNECT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let lastError = "";
    while (Date.now() < deadline) {
      if (!qemu.running) {
        throw new QemuStartError(`qemu for VM ${state.handle.name} exited at start: ${qemu.stderr || "no output"} (log: ${state.paths.qemuLog})`);
      }
      if (existsSync(state.paths.qmp)) {
        try {
          return await QmpClient.connect(state.paths.qmp);
        } catch (error) {
          lastError = (error as Error).message;
        }
      }
      await sleep(CONNECT_RETRY_MS);
    }
    throw new QemuStartError(`qemu for VM ${state.handle.name} did not open QMP on ${state.paths.qmp} within ${timeoutMs} ms${lastError ? `: ${lastError}` : ""}`);
  }

  private onQemuExit(state: VmState, qemu: TrackedProcess, exit: ProcessExit): VmStop {
    const stop = describeStop(qemu, exit, state.shutdownEvent, state.stopping);
    if (state.qemu !== qemu) return stop;
    state.lastStop = stop;
    state.agentPort.reset();
    state.qmp?.close();
    delete state.qmp;
    // swtpm --terminate ends with QEMU's connection; stop it regardless.
    void state.swtpm?.stop();
    return stop;
  }

  /** quit over QMP, then SIGTERM, then SIGKILL; also the TPM. */
  private async stopProcesses(state: VmState): Promise<void> {
    const qemu = state.qemu;
    if (qemu?.running) {
      state.stopping = true;
      if (state.qmp?.isOpen) await state.qmp.execute("quit", undefined, QUIT_GRACE_MS).catch(() => undefined);
      if (!(await qemu.waitExit(QUIT_GRACE_MS))) await qemu.stop();
    }
    state.qmp?.close();
    delete state.qmp;
    if (state.swtpm?.running) await state.swtpm.stop();
  }

  private requirePoweredOff(vm: VmHandle, action: string): VmState {
    const state = this.state(vm);
    if (state.qemu?.running) throw new VmStateError(`cannot ${action} VM ${vm.name} while it runs: power it off first`);
    return state;
  }

  private state(vm: VmHandle): VmState {
    const state = this.vms.get(vm.id);
    if (!state) throw new VmStateError(`unknown VM ${vm.name} (${vm.id}): it was destroyed or created by another driver`);
    return state;
  }
}

function checkSpec(spec: VmSpec): void {
  const problems: string[] = [];
  if (!spec.name.trim()) problems.push("name must not be empty");
  if (!Number.isInteger(spec.cpus) || spec.cpus < 1) problems.push(`cpus must be a whole number >= 1, got: ${spec.cpus}`);
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < MIN_MEMORY_MIB) problems.push(`memoryMiB must be a whole number >= ${MIN_MEMORY_MIB}, got: ${spec.memoryMiB}`);
  if (!spec.disk.baseLayer && !(spec.diskGiB > 0)) problems.push(`diskGiB must be > 0 for an empty disk, got: ${spec.diskGiB}`);
  if (spec.secureBoot && spec.firmware !== "uefi") problems.push(`secureBoot needs firmware "uefi", got: "${spec.firmware}"`);
  if (spec.disk.baseLayer && !existsSync(spec.disk.baseLayer)) problems.push(`disk.baseLayer ${spec.disk.baseLayer} does not exist`);
  if (problems.length > 0) throw new VmSpecError(`invalid VM spec "${spec.name}": ${problems.join("; ")}`);
}

/** How a qemu process ended, in words, and whether anyone asked for it. */
function describeStop(qemu: TrackedProcess, exit: ProcessExit, shutdown: VmState["shutdownEvent"], byDriver: boolean): VmStop {
  const requestedByGuest = exit.code === 0 && shutdown?.guest === true;
  let description: string;
  if (requestedByGuest) description = `the guest powered off (${shutdown!.reason})`;
  else if (exit.signal) description = `${qemu.label} was killed by ${exit.signal}`;
  else if (shutdown) description = `${qemu.label} was stopped from the host (${shutdown.reason})`;
  else description = `${qemu.label} exited with code ${exit.code ?? "unknown"}${qemu.stderr ? `: ${qemu.stderr.split("\n").pop()}` : ""}`;
  return { requestedByGuest, requestedByDriver: byDriver, description };
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 24) || "vm";
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** A copy complete under its final name or not there at all. */
async function copyComplete(source: string, target: string): Promise<void> {
  const partial = `${target}.${randomBytes(4).toString("hex")}.partial`;
  try {
    await copyFile(source, partial);
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
}
