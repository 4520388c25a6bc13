/**
 * Checkpoint: after a plan step succeeded, the driver freezes the layer the VM wrote (the layer
 * store says whether, where the next one goes and what is saved beside it) and the store keeps
 * the layer the driver returned.
 */
import { CacheFullError, isDiskFull } from "../../cache/errors.ts";
import type { StepContext } from "../step.ts";
import type { StepLog } from "../step-log.ts";
import { layersOf, vmOf, type BuildEnv, type BuildState } from "./build-state.ts";

export async function checkpointAfter(env: BuildEnv, state: BuildState, ctx: StepContext, index: number, log: StepLog): Promise<void> {
  const layers = layersOf(state);
  if (!layers.freezesAfter(index)) return;
  const step = env.request.plan.steps[index]!;
  try {
    await layers.begin(index + 1, ctx.cleanup);
    const frozen = await env.deps.driver.checkpoint(vmOf(state), layers.writePath(index + 1), layers.checkpointOptions(index, state.running));
    const committed = await layers.commit(index, frozen.layer);
    if (committed) log.note(env.clock(), committed);
  } catch (error) {
    if (isDiskFull(error)) throw new CacheFullError(layers.dir, `freezing the layer of step ${step.id}`);
    throw error;
  }
}
