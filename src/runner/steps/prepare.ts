/**
 * Prepare: the log dir, the private work dir (on the cleanup stack at once), the build's one
 * layer-store choice and where the VM will start.
 */
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeOwnedDir, removeAbandonedDirs } from "../../util/owned-dir.ts";
import { chooseLayerStore } from "../layers/layer-store.ts";
import type { Step } from "../step.ts";
import { LOG_DIR, note, snapshotName, type BuildEnv, type BuildState } from "./build-state.ts";

/** Every temporary directory rebake makes starts with this; see util/owned-dir.ts. */
export const WORK_DIR_PREFIX = "rebake-";

export function prepareStep(env: BuildEnv): Step<BuildState> {
  const { request, deps } = env;
  return {
    name: "prepare",
    title: "Prepare the work dir and find cached layers",
    async run(ctx, state) {
      await mkdir(join(request.outDir, LOG_DIR), { recursive: true });
      const tempRoot = deps.tempRoot ?? tmpdir();
      // Work dirs of builds that were killed (SIGKILL, a crash) and could not clean up.
      for (const dir of await removeAbandonedDirs(tempRoot, [WORK_DIR_PREFIX])) note(env, ctx.stepId, `removed ${dir}: its build is gone`);
      state.workDir = await makeOwnedDir(tempRoot, `${WORK_DIR_PREFIX}${state.buildId}-`);
      // With --on-error keep, a kept VM may still be writing into the work dir.
      ctx.cleanup.push(`remove ${state.workDir}`, () => rm(state.workDir, { recursive: true, force: true }), { keepOnError: true });
      // PVS: the VM's last writes are scratch; MCS: they are the golden VM's disk, an output.
      const tailPath = env.isPvs ? join(state.workDir, "tail.qcow2") : join(request.outDir, `${snapshotName(request, state.buildId)}.qcow2`);
      state.layers = chooseLayerStore({
        steps: request.plan.steps,
        noCache: request.noCache === true,
        capabilities: deps.driver.capabilities,
        driverName: deps.driver.name,
        cache: deps.layers,
        workDir: state.workDir,
        tailPath,
      });
      state.resume = await state.layers.resume();
      note(env, ctx.stepId, state.layers.describe(state.resume));
      for (const warning of request.plan.warnings) note(env, ctx.stepId, `warning: ${warning}`);
    },
  };
}
