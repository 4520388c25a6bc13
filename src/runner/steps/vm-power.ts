/**
 * Bringing the golden VM's guest up and down between steps: a guest channel opened once (and
 * closed at unwind), power on with a wait for the agent, and a clean shutdown that waits for
 * power off.
 */
import { GuestDisconnectedError, type GuestChannel } from "../../guest/channel.ts";
import type { PlanStep } from "../../recipe/plan-model.ts";
import { waitForAgent } from "../guest-step.ts";
import type { StepContext } from "../step.ts";
import type { StepLog } from "../step-log.ts";
import { withStepTimeout } from "../step-timeout.ts";
import { vmOf, type BuildEnv, type BuildState } from "./build-state.ts";

export function channelOf(env: BuildEnv, state: BuildState, ctx: StepContext): GuestChannel {
  const vm = vmOf(state);
  if (!state.channel) {
    const channel = env.deps.driver.guest(vm);
    state.channel = channel;
    state.releaseChannel = ctx.cleanup.push("close the guest channel", () => channel.close());
  }
  return state.channel;
}

/** The guest's channel, once the VM runs and its agent answers. */
export async function ensureRunning(env: BuildEnv, state: BuildState, ctx: StepContext, step: PlanStep): Promise<GuestChannel> {
  const channel = channelOf(env, state, ctx);
  if (!state.running) {
    const started = await env.deps.driver.powerOn(vmOf(state));
    state.resumedFromMemory ||= started?.resumedFromMemory ?? false;
    state.running = true;
    await waitForAgent({ step, channel, signal: ctx.signal, bootTimeoutMs: env.bootTimeoutMs, clock: env.clock, spent: state.spent }, "the guest agent after boot");
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
  await withStepTimeout(step.id, bootTimeoutMs, "the clean shutdown: the VM did not power off", ctx.signal, (signal) =>
    env.deps.driver.waitPoweredOff(vmOf(state), bootTimeoutMs, signal),
  );
  state.running = false;
  state.spent.bootMs += clock().getTime() - began;
}
