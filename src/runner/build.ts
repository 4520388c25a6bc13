/**
 * The build: a literal list of steps from a plan to a captured artifact and its manifest.
 *
 *   prepare -> fetch inputs -> answer media -> create VM -> <plan steps> -> release VM -> capture
 *
 * Each plan step writes into its own qcow2 layer named by its cumulative hash; after the step
 * succeeds the driver freezes the layer (checkpoint) and the layer cache commits it. A rebuild
 * starts the VM from the longest committed prefix, so only the steps after it run again. A
 * --no-cache build commits nothing, so it writes one layer, frozen after the last step.
 * Everything acquired (work dir, VM, uncommitted layers, partial artifacts) is on the cleanup
 * stack the moment it exists and is released in reverse order however the build ends.
 */
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { tmpdir } from "node:os";
import type { FetchedInput } from "../cache/download-cache.ts";
import type { DownloadCache } from "../cache/download-cache.ts";
import type { Companion, LayerCache } from "../cache/layer-cache.ts";
import { CacheFullError, isDiskFull } from "../cache/errors.ts";
import { installReport } from "../answers/install-report.ts";
import { GuestDisconnectedError, type GuestChannel } from "../guest/channel.ts";
import type { HypervisorDriver, Media, VmAccess, VmHandle } from "../hypervisors/driver.ts";
import { vmSpecFor } from "../hypervisors/vm-spec.ts";
import { makeOwnedDir, removeAbandonedDirs } from "../util/owned-dir.ts";
import type { BuildManifest, ManifestInput, ManifestOutput, ManifestStep } from "../manifest/model.ts";
import { MANIFEST_FILE, writeManifest } from "../manifest/write-manifest.ts";
import type { Recipe, SecretRef } from "../recipe/model.ts";
import type { Plan, PlanStep } from "../recipe/plan-model.ts";
import { newBuildId } from "./build-id.ts";
import { CleanupStack } from "./cleanup-stack.ts";
import { BuildError, GuestStallError, InstallNotProvenError } from "./errors.ts";
import { systemClock, type Clock, type EmitEvent } from "./events.ts";
import { runGuestStep, waitForAgent, type TimeSpent } from "./guest-step.ts";
import type { OnErrorPolicy } from "./on-error.ts";
import { runSteps, StepsFailedError, type StepRecord } from "./run-steps.ts";
import type { Step, StepContext } from "./step.ts";
import { StepLog } from "./step-log.ts";
import { withStepTimeout } from "./step-timeout.ts";
import { DEFAULT_STALL_WINDOW_MS, VmWatch, type GuardOptions, type WatchTimers } from "./vm-watch.ts";

/** How long the unattended OS install may take before the VM powers off. */
export const DEFAULT_INSTALL_TIMEOUT_MS = 30 * 60_000;
/** How long a boot may take until the guest agent answers, and a clean shutdown until power off. */
export const DEFAULT_BOOT_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_SNAPSHOT_NAME = "{name}-{version}-{build}";
const LOG_DIR = "logs";
/** Every temporary directory rebake makes starts with this; see util/owned-dir.ts. */
export const WORK_DIR_PREFIX = "rebake-";
/** The one disk layer of a --no-cache build, in its work dir. */
const SINGLE_LAYER = "disk.qcow2";

/** Writes the answer ISO (autounattend.xml or cloud-init CIDATA) for this build. */
export type MakeAnswerMedia = (recipe: Recipe, options: { readonly buildId: string; readonly outPath: string; readonly signal: AbortSignal }) => Promise<void>;

/** Converts the final disk (a qcow2 chain) into a VHDX, hashing while it writes. */
export type CaptureVhdx = (
  sourcePath: string,
  outPath: string,
  options: { readonly signal: AbortSignal; readonly onProgress: (done: number, total: number) => void },
) => Promise<{ readonly size: number; readonly sha256: string }>;

/** What the build runs on: passed in, so unit tests use recording fakes. */
export interface BuildDeps {
  readonly driver: HypervisorDriver;
  readonly downloads: DownloadCache;
  readonly layers: LayerCache;
  readonly answerMedia: MakeAnswerMedia;
  readonly capture: CaptureVhdx;
  readonly toolVersions: () => Promise<Record<string, string>>;
  readonly resolveSecret: (ref: SecretRef) => string;
  readonly clock?: Clock;
  /** Parent of the build's work dir (answer ISO, layers of a --no-cache build). @default os.tmpdir() */
  readonly tempRoot?: string;
  /** The watchdog's clock and sleep. @default real time */
  readonly watchTimers?: WatchTimers;
}

export interface BuildRequest {
  readonly plan: Plan;
  readonly recipe: Recipe;
  readonly outDir: string;
  readonly signal: AbortSignal;
  readonly emit: EmitEvent;
  /** Ignore the layer cache: build from the ISO in a private work dir, commit nothing. */
  readonly noCache?: boolean;
  /** @default "cleanup" */
  readonly onError?: OnErrorPolicy;
  /** The whole build's time limit. */
  readonly timeoutMs?: number;
  readonly buildId?: string;
  /** @default DEFAULT_INSTALL_TIMEOUT_MS */
  readonly installTimeoutMs?: number;
  /** @default DEFAULT_BOOT_TIMEOUT_MS */
  readonly bootTimeoutMs?: number;
  /**
   * How long a wait on the guest (install, boot, shutdown) may see nothing move (console, disk
   * writes, CPU) before it fails as stalled. @default DEFAULT_STALL_WINDOW_MS
   */
  readonly stallWindowMs?: number;
  /**
   * Told how to reach the VM when `--on-error keep` left it running, and how to release it (and
   * its work dir and layer) once the user is done.
   */
  readonly onKept?: (access: VmAccess, release: () => Promise<void>) => void;
}

export interface BuildResult {
  readonly manifest: BuildManifest;
  readonly manifestPath: string;
}

/** The plan cannot be built as it is. */
export class PlanShapeError extends BuildError {}

/** A committed layer whose guest did not come back: it was evicted, and the build starts again below it. */
export class BrokenLayerError extends BuildError {
  constructor(
    readonly stepId: string,
    readonly failure: Error,
  ) {
    super(`the cached layer of step ${stepId} did not boot to a guest agent (${failure.message.split("\n")[0]}); it was evicted from the layer cache`);
  }
}

interface BuildState {
  readonly buildId: string;
  /** The guest continued from the memory state saved with the cached layer instead of booting. */
  resumedFromMemory?: boolean;
  /** File each plan step's layer is written to, by index. */
  layerPaths: string[];
  /** Where the VM writes after the last step's layer is frozen. */
  tailPath: string;
  workDir: string;
  /** How many leading plan steps come from the layer cache. */
  prefix: number;
  files: Map<string, FetchedInput[]>;
  answersIso?: string;
  vm?: VmHandle;
  releaseVm?: () => void;
  channel?: GuestChannel;
  releaseChannel?: () => void;
  running: boolean;
  /** The watchdog of the VM's current run, when the driver can observe it. */
  watch?: VmWatch;
  /** The log of the plan step running now: the VM console goes there too. */
  log?: StepLog;
  /** Set until the first boot of a VM built on a cached layer reached its agent. */
  bootingCachedLayer?: number;
  exitCodes: Map<string, number>;
  spent: TimeSpent & { captureMs: number };
  outputs: ManifestOutput[];
  tools: Record<string, string>;
}

/**
 * Builds, starting again when the failure says how to do better: a cached layer that would not
 * boot is evicted and the build resumes from the layer below it; a boot that stalled under KVM
 * before writing anything is rebuilt once under TCG (and the host remembers).
 */
export async function build(request: BuildRequest, deps: BuildDeps): Promise<BuildResult> {
  const clock = deps.clock ?? systemClock;
  const note = (message: string) => request.emit({ type: "log", at: clock().toISOString(), message });
  let triedTcg = false;
  for (;;) {
    try {
      return await buildOnce(request, deps);
    } catch (error) {
      const cause = error instanceof StepsFailedError ? error.error : error;
      if (cause instanceof BrokenLayerError && !request.signal.aborted) {
        note(`${cause.message}; building again from the layer below it`);
        continue;
      }
      if (cause instanceof GuestStallError && cause.accelerator === "kvm" && cause.diskWrittenBytes === 0 && !triedTcg && !request.signal.aborted) {
        const reason = `KVM stalled a real boot here (step ${cause.stepId}, ${cause.phase}: nothing moved for ${Math.round(cause.stalledMs / 1000)} s and nothing was written to the disk)`;
        const next = await deps.driver.distrustAccelerator?.(reason);
        if (next) {
          triedTcg = true;
          note(`WARNING: ${reason}. Rebuilding once under ${next.toUpperCase()}; this host will use ${next.toUpperCase()} from now on (REBAKE_ACCEL=kvm overrides)`);
          continue;
        }
      }
      throw error;
    }
  }
}

async function buildOnce(request: BuildRequest, deps: BuildDeps): Promise<BuildResult> {
  const clock = deps.clock ?? systemClock;
  const started = clock();
  const { plan, recipe } = request;
  if (plan.steps.length === 0 || plan.steps[0]!.kind !== "os-install") {
    throw new PlanShapeError(`the plan of ${plan.recipe.file} must start with the os-install step, got ${plan.steps[0]?.kind ?? "no steps"}; this is a bug in the planner`);
  }
  const buildId = request.buildId ?? newBuildId(started);
  const state: BuildState = {
    buildId,
    layerPaths: [],
    tailPath: "",
    workDir: "",
    prefix: 0,
    files: new Map(),
    running: false,
    exitCodes: new Map(),
    spent: { inGuestMs: 0, bootMs: 0, captureMs: 0 },
    outputs: [],
    tools: {},
  };
  const cleanup = new CleanupStack();
  const steps = buildSteps(request, deps, clock);
  request.emit({ type: "build-start", at: started.toISOString(), recipe: plan.recipe.name, buildId, steps: steps.map((s) => ({ id: s.name, title: s.title })) });
  const { steps: records } = await runSteps(steps, state, {
    signal: request.signal,
    emit: request.emit,
    cleanup,
    clock,
    ...(request.onError ? { onError: request.onError } : {}),
    ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
    onKept: (_kept, release) => {
      if (state.vm) request.onKept?.(deps.driver.access(state.vm), release);
    },
  });
  const finished = clock();
  const manifest = manifestOf(request, deps, state, records, started, finished);
  const manifestPath = join(request.outDir, MANIFEST_FILE);
  await writeManifest(manifestPath, manifest);
  return { manifest, manifestPath };
}

function buildSteps(request: BuildRequest, deps: BuildDeps, clock: Clock): Step<BuildState>[] {
  const { plan, recipe } = request;
  const bootTimeoutMs = request.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
  const stallWindowMs = request.stallWindowMs ?? DEFAULT_STALL_WINDOW_MS;
  const installTimeoutMs = request.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS;
  const last = plan.steps.length - 1;
  const isPvs = recipe.target.kind === "pvs";
  // A --no-cache build commits no layer, so freezing one per step would only cost a guest
  // filesystem freeze each: its disk is one layer, frozen once after the last step.
  const singleLayer = request.noCache === true && deps.driver.layersOutliveVm;
  // Layers that die with the build VM (vSphere, XO snapshots) are kept for this build only.
  const cacheable = !request.noCache && deps.driver.layersOutliveVm;

  const channelOf = (state: BuildState, ctx: StepContext): GuestChannel => {
    if (!state.vm) throw new Error("internal: no VM");
    if (!state.channel) {
      const channel = deps.driver.guest(state.vm);
      state.channel = channel;
      state.releaseChannel = ctx.cleanup.push("close the guest channel", () => channel.close());
    }
    return state.channel;
  };

  /** Powers the VM on and starts watching it (console to the step log, death, stalls). */
  const powerOn = async (ctx: StepContext, state: BuildState) => {
    const started = await deps.driver.powerOn(state.vm!);
    state.running = true;
    const monitor = deps.driver.monitor?.(state.vm!);
    state.watch = monitor
      ? new VmWatch({
          monitor,
          stallWindowMs,
          ...(deps.watchTimers ? { timers: deps.watchTimers } : {}),
          onConsole: (text) => state.log?.write(text),
          onLine: (line) => ctx.emit({ type: "console", at: clock().toISOString(), step: ctx.stepId, line }),
        })
      : undefined;
    return started;
  };

  /** Work on the running VM: fails at once when it dies, and on a stall while `waitingFor`. */
  const guarded = <T>(ctx: StepContext, state: BuildState, work: (signal: AbortSignal) => Promise<T>, options: GuardOptions = {}): Promise<T> =>
    state.watch ? state.watch.guard(ctx.stepId, ctx.signal, work, options) : work(ctx.signal);

  const ensureRunning = async (ctx: StepContext, state: BuildState, step: PlanStep): Promise<GuestChannel> => {
    const channel = channelOf(state, ctx);
    if (!state.running) {
      const started = await powerOn(ctx, state);
      state.resumedFromMemory ||= started?.resumedFromMemory ?? false;
      try {
        await guarded(ctx, state, (signal) => waitForAgent({ step, channel, signal, bootTimeoutMs, clock, spent: state.spent }, "the guest agent after boot"), {
          waitingFor: "the boot until the guest agent answers",
        });
      } catch (error) {
        const cached = state.bootingCachedLayer;
        if (cached === undefined || ctx.signal.aborted) throw error;
        // One bad layer must not wedge every later build: evict it, and the build starts again below it.
        await deps.layers.remove(plan.steps[cached]!.hash);
        throw new BrokenLayerError(plan.steps[cached]!.id, error as Error);
      }
      delete state.bootingCachedLayer;
    }
    return channel;
  };

  const shutdownClean = async (ctx: StepContext, state: BuildState, step: PlanStep, log: StepLog): Promise<void> => {
    log.note(clock(), "shutting the guest down cleanly");
    const began = clock().getTime();
    // The agent may not answer a shutdown request before it goes away: that is the shutdown working.
    await state.channel!.shutdown().catch((error: unknown) => {
      if (!(error instanceof GuestDisconnectedError)) throw error;
    });
    await guarded(
      ctx,
      state,
      (guardSignal) =>
        withStepTimeout(step.id, bootTimeoutMs, "the clean shutdown: the VM did not power off", guardSignal, (signal) => deps.driver.waitPoweredOff(state.vm!, bootTimeoutMs, signal)),
      { waitingFor: "the clean shutdown", powerOffExpected: true },
    );
    state.running = false;
    state.spent.bootMs += clock().getTime() - began;
  };

  const prepare: Step<BuildState> = {
    name: "prepare",
    title: "Prepare the work dir and find cached layers",
    async run(ctx, state) {
      await mkdir(join(request.outDir, LOG_DIR), { recursive: true });
      const tempRoot = deps.tempRoot ?? tmpdir();
      // Work dirs of builds that were killed (SIGKILL, a crash) and could not clean up.
      for (const dir of await removeAbandonedDirs(tempRoot, [WORK_DIR_PREFIX])) {
        ctx.emit({ type: "log", at: clock().toISOString(), step: ctx.stepId, message: `removed ${dir}: its build is gone` });
      }
      state.workDir = await makeOwnedDir(tempRoot, `${WORK_DIR_PREFIX}${state.buildId}-`);
      // With --on-error keep, a kept VM may still be writing into the work dir.
      ctx.cleanup.push(`remove ${state.workDir}`, () => rm(state.workDir, { recursive: true, force: true }), { keepOnError: true });
      if (singleLayer) {
        state.layerPaths = plan.steps.map(() => join(state.workDir, SINGLE_LAYER));
        state.prefix = 0;
      } else if (!cacheable) {
        state.layerPaths = plan.steps.map((s, i) => join(state.workDir, `${String(i).padStart(2, "0")}-${s.id}.qcow2`));
        state.prefix = 0;
      } else {
        await deps.layers.ensureDir();
        state.layerPaths = plan.steps.map((s) => deps.layers.layerPath(s.hash));
        state.prefix = await deps.layers.longestPrefix(plan.steps.map((s) => s.hash));
      }
      state.tailPath = isPvs ? join(state.workDir, "tail.qcow2") : join(request.outDir, `${snapshotName(request, state.buildId)}.qcow2`);
      state.tools = await deps.toolVersions();
      const note = request.noCache
        ? "--no-cache: building from the ISO"
        : cacheable
          ? `${state.prefix} of ${plan.steps.length} steps cached`
          : `layer cache off: ${deps.driver.name} layers are snapshots of the build VM and go with it; building from the ISO`;
      ctx.emit({ type: "log", at: clock().toISOString(), step: ctx.stepId, message: note });
      for (const warning of plan.warnings) ctx.emit({ type: "log", at: clock().toISOString(), step: ctx.stepId, message: `warning: ${warning}` });
    },
  };

  const fetchInputs: Step<BuildState> = {
    name: "fetch-inputs",
    title: "Fetch and check inputs",
    async run(ctx, state) {
      const needed = plan.steps.slice(state.prefix);
      if (needed.every((s) => s.inputs.length === 0)) return { cached: state.prefix > 0 };
      for (const step of needed) {
        const files: FetchedInput[] = [];
        for (const input of step.inputs) {
          files.push(
            await deps.downloads.get(input, {
              signal: ctx.signal,
              cleanup: ctx.cleanup,
              onProgress: (done, total) => ctx.emit({ type: "progress", at: clock().toISOString(), step: ctx.stepId, done, total }),
            }),
          );
        }
        state.files.set(step.id, files);
      }
      return {};
    },
  };

  const answerMedia: Step<BuildState> = {
    name: "answer-media",
    title: "Write the answer media",
    async run(ctx, state) {
      if (state.prefix > 0) return { cached: true };
      const outPath = join(state.workDir, "answers.iso");
      await deps.answerMedia(recipe, { buildId: state.buildId, outPath, signal: ctx.signal });
      state.answersIso = outPath;
      return {};
    },
  };

  const createVm: Step<BuildState> = {
    name: "create-vm",
    title: "Create the golden VM",
    async run(ctx, state) {
      const resumeAt = state.prefix;
      if (resumeAt > last && isPvs) return { cached: true };
      const diskPath = resumeAt <= last ? state.layerPaths[resumeAt]! : state.tailPath;
      if (!request.noCache && resumeAt <= last) await deps.layers.discardUncommitted(plan.steps[resumeAt]!.hash);
      const baseLayer = resumeAt > 0 ? state.layerPaths[resumeAt - 1] : undefined;
      // The guest as it ran at the end of the cached step, when its state was saved with the layer.
      // UEFI boot entries, Secure Boot updates and what the guest bound to its TPM are part of what
      // the layer built, as is the guest's running state when it was saved.
      const saved = resumeAt > 0 ? await deps.layers.companions(plan.steps[resumeAt - 1]!.hash) : {};
      const vm = await deps.driver.createVm(
        vmSpecFor(`rebake-${plan.recipe.name}-${state.buildId}`, recipe.hardware, {
          path: diskPath,
          ...(baseLayer ? { baseLayer } : {}),
          ...(saved.state ? { resumeState: saved.state } : {}),
          ...(saved.firmwareVars ? { firmwareVars: saved.firmwareVars } : {}),
          ...(saved.tpmState ? { tpmState: saved.tpmState } : {}),
        }),
        ctx.signal,
      );
      state.vm = vm;
      state.releaseVm = ctx.cleanup.push(`destroy VM ${vm.name}`, () => deps.driver.destroy(vm), { keepOnError: true });
      if (resumeAt <= last) registerLayerRelease(ctx, state, resumeAt);
      if (resumeAt > 0 && resumeAt <= last) state.bootingCachedLayer = resumeAt - 1;
      if (resumeAt === 0) {
        const iso = state.files.get(plan.steps[0]!.id)?.[0];
        if (!iso) throw new PlanShapeError(`the os-install step of ${plan.recipe.file} has no install ISO input; this is a bug in the planner`);
        const media: Media[] = [{ path: iso.path, role: "install" }, { path: state.answersIso!, role: "answers" }];
        await deps.driver.attachMedia(vm, media);
      } else {
        ctx.emit({ type: "log", at: clock().toISOString(), step: ctx.stepId, message: `resuming from the cached layer of ${plan.steps[resumeAt - 1]!.id}${saved.state ? " and its saved VM state" : ""}` });
      }
      return {};
    },
  };

  /** An uncommitted layer is removed when the build ends without committing it. */
  const registerLayerRelease = (ctx: StepContext, state: BuildState, index: number) => {
    if (request.noCache) return;
    const hash = plan.steps[index]!.hash;
    ctx.cleanup.push(`remove the uncommitted layer of ${plan.steps[index]!.id}`, () => deps.layers.discardUncommitted(hash), { keepOnError: true });
  };

  const planSteps = plan.steps.map((step, index): Step<BuildState> => ({
    name: step.id,
    title: step.title,
    async run(ctx, state) {
      if (index < state.prefix) return { cached: true };
      const log = await StepLog.open(join(request.outDir, LOG_DIR, `${step.id}.log`), secretValues(step, deps));
      state.log = log;
      try {
        log.note(clock(), `step ${step.id}: ${step.title} (layer ${step.hash})`);
        if (step.kind === "os-install") {
          const began = clock().getTime();
          await powerOn(ctx, state);
          log.note(clock(), "installing the OS from the ISO; waiting for the installer to power the VM off");
          await guarded(
            ctx,
            state,
            (guardSignal) =>
              withStepTimeout(step.id, installTimeoutMs, "the unattended OS install: the VM did not power off", guardSignal, (signal) =>
                deps.driver.waitPoweredOff(state.vm!, installTimeoutMs, signal),
              ),
            { waitingFor: "the unattended OS install", powerOffExpected: true },
          );
          state.running = false;
          state.spent.bootMs += clock().getTime() - began;
          await proveInstall(state, step, log);
          // Boot from the installed disk from now on.
          await deps.driver.attachMedia(state.vm!, []);
          log.note(clock(), "the installer powered the VM off");
        } else if (step.kind === "shutdown") {
          if (state.running) await shutdownClean(ctx, state, step, log);
        } else {
          const channel = await ensureRunning(ctx, state, step);
          const result = await guarded(ctx, state, (signal) =>
            runGuestStep({
              step,
              family: plan.family,
              channel,
              files: state.files.get(step.id) ?? [],
              log,
              signal,
              bootTimeoutMs,
              resolveSecret: deps.resolveSecret,
              clock,
              spent: state.spent,
              ...(state.watch ? { watchBoot: (what, work) => guarded(ctx, state, work, { waitingFor: what }) } : {}),
            }),
          );
          if (result.exitCode !== undefined) state.exitCodes.set(step.id, result.exitCode);
        }
        // The image ends with a cleanly shut down guest: what PVS captures and MCS snapshots.
        if (index === last && state.running) await shutdownClean(ctx, state, step, log);
        await freezeLayer(ctx, state, index, log);
      } finally {
        if (state.log === log) delete state.log;
        await log.close();
      }
      return {};
    },
  }));

  /** The installer said it finished: a VM that merely stopped is not an installed disk. */
  const proveInstall = async (state: BuildState, step: PlanStep, log: StepLog): Promise<void> => {
    const watch = state.watch;
    if (!watch) {
      log.note(clock(), `the ${deps.driver.name} driver cannot read the VM console: the install counts as finished because the guest powered the VM off`);
      return;
    }
    const report = installReport(state.buildId);
    if (await watch.findLine(new RegExp(`^${escapeRegExp(report.success)}$`))) {
      log.note(clock(), `the installer reported success: ${report.success}`);
      return;
    }
    const failed = await watch.findLine(new RegExp(`^${escapeRegExp(report.failurePrefix)}`));
    throw new InstallNotProvenError(step.id, report.success, failed?.slice(report.failurePrefix.length).trim(), watch.consoleTail());
  };

  const freezeLayer = async (ctx: StepContext, state: BuildState, index: number, log: StepLog): Promise<void> => {
    if (singleLayer && index < last) return;
    const step = plan.steps[index]!;
    const next = index < last ? state.layerPaths[index + 1]! : state.tailPath;
    if (index < last && !request.noCache) await deps.layers.discardUncommitted(plan.steps[index + 1]!.hash);
    try {
      // A running VM's state saved with a cached layer lets a rebuild resume it instead of booting.
      const companion = (kind: Companion) => deps.layers.companionPath(step.hash, kind);
      const saveState = cacheable && state.running ? companion("state") : undefined;
      const companions = cacheable ? { saveFirmwareVars: companion("firmwareVars"), saveTpmState: companion("tpmState") } : {};
      await deps.driver.checkpoint(state.vm!, next, { ...(saveState ? { saveState } : {}), ...companions });
      if (index < last) registerLayerRelease(ctx, state, index + 1);
      if (request.noCache) return;
      await deps.layers.commit(step.hash, { stepId: step.id, parent: index > 0 ? plan.steps[index - 1]!.hash : null });
      log.note(clock(), `layer committed: ${state.layerPaths[index]}`);
    } catch (error) {
      if (isDiskFull(error)) throw new CacheFullError(request.noCache ? state.workDir : deps.layers.dir, `freezing the layer of step ${step.id}`);
      throw error;
    }
  };

  const releaseVm: Step<BuildState> = {
    name: "release-vm",
    title: isPvs ? "Release the golden VM" : "Snapshot the golden VM",
    async run(ctx, state) {
      if (!state.vm) return { cached: true };
      const vm = state.vm;
      if (state.running) await deps.driver.powerOff(vm);
      state.running = false;
      if (!isPvs) {
        const name = snapshotName(request, state.buildId);
        const { ref, placement } = await deps.driver.snapshot(vm, name);
        state.outputs.push({ kind: "snapshot", name, ref, ...(placement ? { placement } : {}), vm: { name: vm.name, id: vm.id } });
      }
      // Let go of the VM now rather than at unwind: the capture reads the layers it held open.
      state.releaseChannel?.();
      await state.channel?.close();
      state.channel = undefined;
      state.releaseVm?.();
      // The MCS golden VM holds the snapshot the catalogs will point at: it is an output.
      await (isPvs ? deps.driver.destroy(vm) : deps.driver.release(vm));
      state.vm = undefined;
      return {};
    },
  };

  const capture: Step<BuildState> = {
    name: "capture",
    title: "Capture the vDisk (VHDX + sha256)",
    async run(ctx, state) {
      if (recipe.target.kind !== "pvs") return { cached: true };
      const finalPath = join(request.outDir, `${recipe.target.vdiskName}.vhdx`);
      const partial = join(request.outDir, `.${recipe.target.vdiskName}.vhdx.${state.buildId}.partial`);
      const release = ctx.cleanup.push(`remove ${partial}`, () => rm(partial, { force: true }));
      const began = clock().getTime();
      const result = await deps.capture(state.layerPaths[last]!, partial, {
        signal: ctx.signal,
        onProgress: (done, total) => ctx.emit({ type: "progress", at: clock().toISOString(), step: ctx.stepId, done, total }),
      });
      await rename(partial, finalPath);
      release();
      state.spent.captureMs += clock().getTime() - began;
      const size = (await stat(finalPath)).size;
      state.outputs.push({ kind: "vhdx", path: relative(request.outDir, finalPath), size, sha256: result.sha256 });
      return {};
    },
  };

  return [prepare, fetchInputs, answerMedia, createVm, ...planSteps, releaseVm, capture];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function snapshotName(request: BuildRequest, buildId: string): string {
  const target = request.recipe.target;
  const template = target.kind === "mcs" ? (target.snapshotName ?? DEFAULT_SNAPSHOT_NAME) : DEFAULT_SNAPSHOT_NAME;
  return template
    .replaceAll("{name}", request.plan.recipe.name)
    .replaceAll("{version}", request.plan.recipe.version)
    .replaceAll("{build}", buildId);
}

/** Secret values a step's commands receive, masked in its log. */
function secretValues(step: PlanStep, deps: BuildDeps): string[] {
  return step.commands.flatMap((c) => Object.values(c.secretEnv ?? {}).map((ref) => deps.resolveSecret(ref)));
}

function manifestOf(request: BuildRequest, deps: BuildDeps, state: BuildState, records: readonly StepRecord[], started: Date, finished: Date): BuildManifest {
  const { plan } = request;
  const planStep = new Map(plan.steps.map((s) => [s.id, s]));
  const inputs: ManifestInput[] = plan.steps.flatMap((step) => {
    const files = state.files.get(step.id);
    return step.inputs.map((input, i): ManifestInput => {
      const file = files?.[i];
      const unpinned = input.unpinnedReason ? { unpinnedReason: input.unpinnedReason } : {};
      if (file) return { name: input.name, step: step.id, origin: file.origin, sha256: file.sha256, size: file.size, fetched: true, ...unpinned };
      const sha256 = input.sha256 ?? input.source.sha256;
      const origin = input.source.url ?? input.resolvedPath ?? input.source.path ?? "";
      return { name: input.name, step: step.id, origin, ...(sha256 ? { sha256 } : {}), fetched: false, ...unpinned };
    });
  });
  const steps: ManifestStep[] = records.map((r) => {
    const p = planStep.get(r.id);
    const exitCode = state.exitCodes.get(r.id);
    const ran = p !== undefined && !r.cached;
    return {
      id: r.id,
      title: r.title,
      status: r.cached ? "cached" : "ok",
      cacheHit: r.cached,
      ...(p ? { hash: p.hash } : {}),
      start: r.startedAt,
      end: r.endedAt,
      durationMs: r.durationMs,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(ran ? { log: `${LOG_DIR}/${r.id}.log` } : {}),
    };
  });
  return {
    manifestVersion: 1,
    buildId: state.buildId,
    recipe: { name: plan.recipe.name, version: plan.recipe.version, file: plan.recipe.file, hash: plan.hash },
    target: plan.target,
    driver: deps.driver.name,
    started: started.toISOString(),
    finished: finished.toISOString(),
    inputs,
    steps,
    outputs: state.outputs,
    tools: state.tools,
    timings: {
      totalMs: finished.getTime() - started.getTime(),
      inGuestMs: state.spent.inGuestMs,
      bootMs: state.spent.bootMs,
      captureMs: state.spent.captureMs,
    },
    warnings: plan.warnings,
    ...(state.resumedFromMemory !== undefined ? { resumedFromMemory: state.resumedFromMemory } : {}),
  };
}
