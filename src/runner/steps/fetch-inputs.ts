/** Fetch inputs: the files of every step that will run, each checked against its sha256. */
import type { FetchedInput } from "../../cache/download-cache.ts";
import type { Step } from "../step.ts";
import type { BuildEnv, BuildState } from "./build-state.ts";

export function fetchInputsStep(env: BuildEnv): Step<BuildState> {
  const { request, deps, clock } = env;
  return {
    name: "fetch-inputs",
    title: "Fetch and check inputs",
    async run(ctx, state) {
      const needed = request.plan.steps.slice(state.resume.prefix);
      if (needed.every((s) => s.inputs.length === 0)) {
        return { outcome: "skipped", why: state.resume.prefix > 0 ? "the steps that take inputs are cached" : "no step takes an input" };
      }
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
      return undefined;
    },
  };
}
