/**
 * Verify: boots what the build produced (the vDisk, or the disk of the MCS snapshot) under a
 * throwaway overlay, runs the recipe's checks and records the result in the build's manifest. A
 * failed check fails the build after the manifest is written, so the artifact and its record stay.
 */
import { VerificationFailedError } from "../errors.ts";
import type { Step } from "../step.ts";
import { verifyArtifact, whyUnbootable } from "../verify-artifact.ts";
import type { BuildEnv, BuildState } from "./build-state.ts";

export function verifyStep(env: BuildEnv): Step<BuildState> {
  const { request, deps, clock } = env;
  return {
    name: "verify",
    title: "Boot the artifact and run the recipe's checks",
    async run(ctx, state) {
      if (!request.verify) return { outcome: "skipped", why: "verification was not asked for (--no-verify)" };
      const artifact = { outputs: state.outputs, dir: request.outDir, recipeName: request.plan.recipe.name, buildId: state.buildId, source: "this build" };
      const unbootable = whyUnbootable(artifact, deps.driver);
      if (unbootable) return { outcome: "skipped", why: unbootable };
      const verification = await verifyArtifact(
        {
          artifact,
          checks: request.verify.checks,
          recipeDir: request.verify.recipeDir,
          signal: ctx.signal,
          emit: ctx.emit,
          bootTimeoutMs: env.bootTimeoutMs,
          stallWindowMs: env.stallWindowMs,
          ...(request.recipe.hardware ? { hardware: request.recipe.hardware } : {}),
        },
        { driver: deps.driver, clock, ...(deps.tempRoot ? { tempRoot: deps.tempRoot } : {}) },
      );
      state.verification = verification;
      if (!verification.passed) throw new VerificationFailedError(verification);
      return undefined;
    },
  };
}
