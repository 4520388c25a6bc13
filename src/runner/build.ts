/**
 * The build: a literal list of steps from a plan to a captured artifact and its manifest.
 *
 *   prepare -> fetch inputs -> answer media -> create VM -> <plan steps, each checkpointed>
 *     -> release VM -> capture -> verify
 *
 * prepare chooses the build's layer store once (shared cache, private work dir, single layer); the
 * steps ask it where layers go, what is resumable and what to commit. Each step file is in
 * `steps/`. Everything acquired (work dir, VM, uncommitted layers, exported disks, partial
 * artifacts) is on the cleanup stack the moment it exists and is released in reverse order
 * however the build ends.
 */
import { join } from "node:path";
import type { BuildManifest } from "../manifest/model.ts";
import { MANIFEST_FILE, writeManifest } from "../manifest/write-manifest.ts";
import { newBuildId } from "./build-id.ts";
import { manifestOf } from "./build-manifest.ts";
import { CleanupStack } from "../util/cleanup-stack.ts";
import { systemClock } from "./events.ts";
import { BrokenLayerError, GuestStallError, VerificationFailedError } from "./errors.ts";
import { runSteps, StepsFailedError, type StepRecord } from "./run-steps.ts";
import type { Step } from "./step.ts";
import { answerMediaStep } from "./steps/answer-media.ts";
import { newBuildState, type BuildDeps, type BuildEnv, type BuildRequest, type BuildState } from "./steps/build-state.ts";
import { captureStep } from "./steps/capture.ts";
import { createVmStep, PlanShapeError } from "./steps/create-vm.ts";
import { fetchInputsStep } from "./steps/fetch-inputs.ts";
import { guestStep } from "./steps/guest-step.ts";
import { prepareStep } from "./steps/prepare.ts";
import { releaseStep } from "./steps/release.ts";
import { verifyStep } from "./steps/verify.ts";
import { DEFAULT_BOOT_TIMEOUT_MS, DEFAULT_INSTALL_TIMEOUT_MS } from "./timeouts.ts";
import { DEFAULT_STALL_WINDOW_MS } from "./vm-watch.ts";

export type { BuildDeps, BuildRequest, CaptureVhdx, MakeAnswerMedia } from "./steps/build-state.ts";

export interface BuildResult {
  readonly manifest: BuildManifest;
  readonly manifestPath: string;
}

export function buildSteps(env: BuildEnv): Step<BuildState>[] {
  return [
    prepareStep(env),
    fetchInputsStep(env),
    answerMediaStep(env),
    createVmStep(env),
    ...env.request.plan.steps.map((step, index) => guestStep(env, step, index)),
    releaseStep(env),
    captureStep(env),
    verifyStep(env),
  ];
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
  const { plan } = request;
  if (plan.steps.length === 0 || plan.steps[0]!.kind !== "os-install") {
    throw new PlanShapeError(`the plan of ${plan.recipe.file} must start with the os-install step, got ${plan.steps[0]?.kind ?? "no steps"}; this is a bug in the planner`);
  }
  const env: BuildEnv = {
    request,
    deps,
    clock,
    bootTimeoutMs: request.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS,
    installTimeoutMs: request.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS,
    stallWindowMs: request.stallWindowMs ?? DEFAULT_STALL_WINDOW_MS,
    isPvs: request.recipe.target.kind === "pvs",
  };
  const state = newBuildState(request.buildId ?? newBuildId(started));
  const steps = buildSteps(env);
  request.emit({ type: "build-start", at: started.toISOString(), recipe: plan.recipe.name, buildId: state.buildId, steps: steps.map((s) => ({ id: s.name, title: s.title })) });
  // Asked while the build runs (a process start per tool): the manifest is the first to need them.
  const tools = deps.toolVersions();
  tools.catch(() => undefined);
  const written = async (records: readonly StepRecord[]): Promise<BuildResult> => {
    state.tools = await tools;
    const manifest = manifestOf(request, deps, state, records, started, clock());
    const manifestPath = join(request.outDir, MANIFEST_FILE);
    await writeManifest(manifestPath, manifest);
    return { manifest, manifestPath };
  };
  try {
    const { steps: records } = await runSteps(steps, state, {
      signal: request.signal,
      emit: request.emit,
      cleanup: new CleanupStack(),
      clock,
      ...(request.onError ? { onError: request.onError } : {}),
      ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
      onKept: (_kept, release) => {
        if (state.vm) request.onKept?.(deps.driver.access(state.vm), release);
      },
    });
    return await written(records);
  } catch (error) {
    // A failed verification still leaves a built artifact: its manifest records both.
    if (error instanceof StepsFailedError && error.error instanceof VerificationFailedError) await written(error.steps);
    throw error;
  }
}
