/**
 * A build is a literal list of steps (Packer's multistep): each step runs against a typed state
 * and may have a cleanup. The runner pushes the step's cleanup when the step starts, so it runs
 * for the failing step too and must not assume the step finished.
 */
import type { CleanupStack } from "../util/cleanup-stack.ts";
import type { EmitEvent } from "./events.ts";

export interface StepContext {
  /** Aborted on SIGINT / SIGTERM and when the build's time limit is reached. */
  readonly signal: AbortSignal;
  /** Push a release the moment something is acquired. */
  readonly cleanup: CleanupStack;
  readonly emit: EmitEvent;
  /** The id of the step being run, for events and errors. */
  readonly stepId: string;
}

/**
 * How a step ended when it did not run its work: `cached` when its result came from the layer
 * cache, `skipped` when it does not apply to this build; `why` says which layer or which rule.
 * A step that returns nothing ran.
 */
export interface StepOutcome {
  readonly outcome: "cached" | "skipped";
  readonly why: string;
}

export interface Step<S> {
  /** Stable id shown in progress, logs and errors, e.g. `create-vm` or a plan step id. */
  readonly name: string;
  readonly title: string;
  run(ctx: StepContext, state: S): Promise<StepOutcome | void>;
  cleanup?(state: S): Promise<void>;
}
