/**
 * A plan step as a build step: cached when the layer store resumes past it; otherwise the OS
 * install (boot the ISO, wait for the installer to power off) or the step's commands inside the
 * guest, then a clean shutdown after the last step, then the checkpoint of its layer.
 */
import { join } from "node:path";
import type { PlanStep } from "../../recipe/plan-model.ts";
import { stepSecretRefs } from "../../recipe/secret-refs.ts";
import { installReport } from "../../answers/install-report.ts";
import { InstallNotProvenError } from "../errors.ts";
import { runGuestStep } from "../guest-step.ts";
import type { Step, StepContext } from "../step.ts";
import { StepLog } from "../step-log.ts";
import { withStepTimeout } from "../step-timeout.ts";
import { LOG_DIR, vmOf, type BuildDeps, type BuildEnv, type BuildState } from "./build-state.ts";
import { checkpointAfter } from "./checkpoint.ts";
import { ensureRunning, guarded, powerOn, shutdownClean } from "./vm-power.ts";
import { escapeRegExp } from "../../util/escape-regexp.ts";

export function guestStep(env: BuildEnv, step: PlanStep, index: number): Step<BuildState> {
  const { request, deps, clock } = env;
  const last = request.plan.steps.length - 1;
  return {
    name: step.id,
    title: step.title,
    async run(ctx, state) {
      if (index < state.resume.prefix) return { outcome: "cached", why: `layer ${step.hash.slice(0, 12)}` };
      const log = await StepLog.open(join(request.outDir, LOG_DIR, `${step.id}.log`), secretValues(step, deps));
      state.log = log;
      try {
        log.note(clock(), `step ${step.id}: ${step.title} (layer ${step.hash})`);
        if (step.kind === "os-install") await installOs(env, state, ctx, step, log);
        else if (step.kind === "shutdown") {
          if (state.running) await shutdownClean(env, state, ctx, step, log);
        } else {
          const channel = await ensureRunning(env, state, ctx, step);
          const result = await guarded(state, ctx, (signal) =>
            runGuestStep({
              step,
              family: request.plan.family,
              channel,
              files: state.files.get(step.id) ?? [],
              log,
              signal,
              bootTimeoutMs: env.bootTimeoutMs,
              resolveSecret: deps.resolveSecret,
              clock,
              spent: state.spent,
              ...(state.watch ? { watchBoot: (what, work) => guarded(state, ctx, work, { waitingFor: what }) } : {}),
            }),
          );
          if (result.exitCode !== undefined) state.exitCodes.set(step.id, result.exitCode);
        }
        // The image ends with a cleanly shut down guest: what PVS captures and MCS snapshots.
        if (index === last && state.running) await shutdownClean(env, state, ctx, step, log);
        await checkpointAfter(env, state, ctx, index, log);
      } finally {
        if (state.log === log) delete state.log;
        await log.close();
      }
      return undefined;
    },
  };
}

async function installOs(env: BuildEnv, state: BuildState, ctx: StepContext, step: PlanStep, log: StepLog): Promise<void> {
  const { clock, deps, installTimeoutMs } = env;
  const vm = vmOf(state);
  const began = clock().getTime();
  await powerOn(env, state, ctx);
  log.note(clock(), "installing the OS from the ISO; waiting for the installer to power the VM off");
  await guarded(
    state,
    ctx,
    (guardSignal) =>
      withStepTimeout(step.id, installTimeoutMs, "the unattended OS install: the VM did not power off", guardSignal, (signal) => deps.driver.waitPoweredOff(vm, installTimeoutMs, signal)),
    { waitingFor: "the unattended OS install", powerOffExpected: true },
  );
  state.running = false;
  state.spent.bootMs += clock().getTime() - began;
  await proveInstall(env, state, step, log);
  // Boot from the installed disk from now on.
  await deps.driver.attachMedia(vm, []);
  log.note(clock(), "the installer powered the VM off");
}

/** The installer said it finished: a VM that merely stopped is not an installed disk. */
async function proveInstall(env: BuildEnv, state: BuildState, step: PlanStep, log: StepLog): Promise<void> {
  const { clock, deps } = env;
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
}


/** Secret values a step's commands receive, masked in its log. */
function secretValues(step: PlanStep, deps: BuildDeps): string[] {
  return stepSecretRefs(step).map((ref) => deps.resolveSecret(ref));
}
