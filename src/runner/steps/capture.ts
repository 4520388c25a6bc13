/**
 * Capture (PVS): the driver exports the golden VM's disk (or, when every step is cached, the last
 * cached layer) as a local file; the VM is destroyed; the file becomes the VHDX vDisk, hashed
 * while written, under a partial name until it is complete. MCS has no vDisk: the snapshot is
 * its image.
 */
import { rename, rm, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { DiskExport } from "../../hypervisors/driver.ts";
import type { Step, StepContext } from "../step.ts";
import type { BuildEnv, BuildState } from "./build-state.ts";

export function captureStep(env: BuildEnv): Step<BuildState> {
  const { request, deps, clock } = env;
  const target = request.recipe.target;
  return {
    name: "capture",
    title: "Capture the vDisk (VHDX + sha256)",
    async run(ctx, state) {
      if (target.kind !== "pvs") return { outcome: "skipped", why: "an MCS image is the golden VM's snapshot: there is no vDisk to capture" };
      const disk = await exportDisk(env, state, ctx);
      const finalPath = join(request.outDir, `${target.vdiskName}.vhdx`);
      const partial = join(request.outDir, `.${target.vdiskName}.vhdx.${state.buildId}.partial`);
      const release = ctx.cleanup.push(`remove ${partial}`, () => rm(partial, { force: true }));
      const began = clock().getTime();
      const result = await deps.capture({ path: disk.path, format: disk.format }, partial, {
        signal: ctx.signal,
        onProgress: (done, total) => ctx.emit({ type: "progress", at: clock().toISOString(), step: ctx.stepId, done, total }),
      });
      await rename(partial, finalPath);
      release();
      state.spent.captureMs += clock().getTime() - began;
      const size = (await stat(finalPath)).size;
      state.outputs.push({ kind: "vhdx", path: relative(request.outDir, finalPath), size, sha256: result.sha256 });
      return undefined;
    },
  };
}

/** The disk to capture, as the driver exports it; the VM goes once its disk is out. */
async function exportDisk(env: BuildEnv, state: BuildState, ctx: StepContext): Promise<DiskExport> {
  const { driver } = env.deps;
  const vm = state.vm;
  const layer = state.resume.base?.layer;
  if (!vm && !layer) throw new Error("internal: no VM and no cached layer to capture");
  const disk = vm ? await driver.exportDisk(vm, ctx.signal) : await driver.exportLayer(layer!);
  if (disk.dispose) ctx.cleanup.push(`remove the exported disk ${disk.path}`, disk.dispose);
  if (vm) {
    state.releaseVm?.();
    state.vm = undefined;
    await driver.destroy(vm);
  }
  return disk;
}
