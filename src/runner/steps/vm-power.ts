/**
 * Bringing the golden VM's guest up and down between steps: a guest channel opened once (and
 * closed at unwind), power on under the watchdog (console to the step log, death, stalls), a wait
 * for the agent, and a clean shutdown that waits for power off. A VM built on a cached layer that
 * never reaches its agent gets that layer evicted, so one bad layer cannot wedge every later build.
 */
import { GuestDisconnectedError, type GuestChannel } from "../../guest/channel.ts";
import type { PowerOnResult } from "../../hypervisors/driver.ts";
import type { PlanStep } from "../../recipe/plan-model.ts";
import { BrokenLayerError } from "../errors.ts";
import { waitForAgent } from "../guest-step.ts";
import type { StepContext } from "../step.ts";
import type { StepLog } from "../step-log.ts";
import { withStepTimeout } from "../step-timeout.ts";
import { VmWatch, type GuardOptions } from "../vm-watch.ts";
import { layersOf, vmOf, type BuildEnv, type BuildState } from "./build-state.ts";

export function channelOf(env: BuildEnv, state: BuildState, ctx: StepContext): GuestChannel {
  const vm = vmOf(state);
  if (!state.channel) {
    const channel = env.deps.driver.guest(vm);
    state.channel = channel;
    state.releaseChannel = ctx.cleanup.push("close the guest channel", () => channel.close());
  }
  return state.channel;
}

/** Powers the VM on and starts watching it, when the driver can observe its VMs. */
export async function powerOn(env: BuildEnv, state: BuildState, ctx: StepContext): Promise<void | PowerOnResult> {
  const { driver } = env.deps;
  const vm = vmOf(state);
  const started = await driver.powerOn(vm);
  state.running = true;
  const monitor = driver.monitor?.(vm);
  state.watch = monitor
    ? new VmWatch({
        monitor,
        stallWindowMs: env.stallWindowMs,
        ...(env.deps.watchTimers ? { timers: env.deps.watchTimers } : {}),
        onConsole: (text) => state.log?.write(text),
        onLine: (line) => ctx.emit({ type: "console", at: env.clock().toISOString(), step: ctx.stepId, line }),
      })
    : undefined;
  return started;
}

/** Work on the running VM: fails at once when it dies, and on a stall while `waitingFor`. */
export function guarded<T>(state: BuildState, ctx: StepContext, work: (signal: AbortSignal) => Promise<T>, options: GuardOptions = {}): Promise<T> {
  return state.watch ? state.watch.guard(ctx.stepId, ctx.signal, work, options) : work(ctx.signal);
}

/** The guest's channel, once the VM runs and its agent answers. */
export async function ensureRunning(env: BuildEnv, state: BuildState, ctx: StepContext, step: PlanStep): Promise<GuestChannel> {
  const channel = channelOf(env, state, ctx);
  if (!state.running) {
    const started = await powerOn(env, state, ctx);
    state.resumedFromMemory ||= started?.resumedFromMemory ?? false;
    try {
      await guarded(state, ctx, (signal) => waitForAgent({ step, channel, signal, bootTimeoutMs: env.bootTimeoutMs, clock: env.clock, spent: state.spent }, "the guest agent after boot"), {
        waitingFor: "the boot until the guest agent answers",
      });
    } catch (error) {
      const cached = state.bootingCachedLayer;
      if (cached === undefined || ctx.signal.aborted) throw error;
      // One bad layer must not wedge every later build: evict it, and the build starts again below it.
      await layersOf(state).evict(cached);
      throw new BrokenLayerError(env.request.plan.steps[cached]!.id, error as Error);
    }
    delete state.bootingCachedLayer;
  }
  return channel;
}

export async function shutdownClean(env: BuildEnv, state: BuildState, ctx: StepContext, step: PlanStep, log: StepLog): Promise<void> {
  const { clock, bootTimeoutMs } = env;
  log.note(clock(), "shutting the guest down cleanly");
  const began = clock().getTime();
  // The agent may not answer a shutdown request before it goes away: that is the shutdown working.
  await state.channel!.shutdown().catch((error: unknown) => {
    if (!(error instanceof GuestDisconnectedError)) throw error;
  });
  await guarded(
    state,
    ctx,
    (guardSignal) =>
      withStepTimeout(step.id, bootTimeoutMs, "the clean shutdown: the VM did not power off", guardSignal, (signal) => env.deps.driver.waitPoweredOff(vmOf(state), bootTimeoutMs, signal)),
    { waitingFor: "the clean shutdown", powerOffExpected: true },
  );
  state.running = false;
  state.spent.bootMs += clock().getTime() - began;
}
