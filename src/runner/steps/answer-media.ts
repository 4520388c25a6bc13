/** Answer media: the unattended install's answers, needed only when the OS install runs. */
import { join } from "node:path";
import type { Step } from "../step.ts";
import type { BuildEnv, BuildState } from "./build-state.ts";

export function answerMediaStep(env: BuildEnv): Step<BuildState> {
  return {
    name: "answer-media",
    title: "Write the answer media",
    async run(ctx, state) {
      if (state.resume.prefix > 0) return { outcome: "skipped", why: "the OS install is cached" };
      const outPath = join(state.workDir, "answers.iso");
      await env.deps.answerMedia(env.request.recipe, { buildId: state.buildId, outPath, signal: ctx.signal });
      state.answersIso = outPath;
      return undefined;
    },
  };
}
