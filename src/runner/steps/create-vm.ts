/**
 * Create VM: the golden VM on the layer the build resumes from (with what was saved with it), or
 * on an empty disk with the install ISO and answer media attached. Not needed when every step is
 * cached and the image is a vDisk: the capture reads the last cached layer.
 */
import type { Media } from "../../hypervisors/driver.ts";
import { vmSpecFor } from "../../hypervisors/vm-spec.ts";
import { BuildError } from "../errors.ts";
import type { Step } from "../step.ts";
import { layersOf, note, type BuildEnv, type BuildState } from "./build-state.ts";

/** The plan cannot be built as it is. */
export class PlanShapeError extends BuildError {}

export function createVmStep(env: BuildEnv): Step<BuildState> {
  const { request, deps } = env;
  const { plan } = request;
  return {
    name: "create-vm",
    title: "Create the golden VM",
    async run(ctx, state) {
      const layers = layersOf(state);
      const { prefix, base } = state.resume;
      if (prefix === plan.steps.length && env.isPvs) return { outcome: "skipped", why: "every step is cached: the capture reads the last cached layer" };
      await layers.begin(prefix, ctx.cleanup);
      // The guest as it ran at the end of the cached step, when its state was saved with the layer.
      // UEFI boot entries, Secure Boot updates and what the guest bound to its TPM are part of what
      // the layer built, as is the guest's running state when it was saved.
      const vm = await deps.driver.createVm(
        vmSpecFor(`rebake-${plan.recipe.name}-${state.buildId}`, request.recipe.hardware, {
          path: layers.writePath(prefix),
          ...(base ? { baseLayer: base.layer } : {}),
          ...(base?.state ? { resumeState: base.state } : {}),
          ...(base?.firmwareVars ? { firmwareVars: base.firmwareVars } : {}),
          ...(base?.tpmState ? { tpmState: base.tpmState } : {}),
        }),
        ctx.signal,
      );
      state.vm = vm;
      state.releaseVm = ctx.cleanup.push(`destroy VM ${vm.name}`, () => deps.driver.destroy(vm), { keepOnError: true });
      if (prefix > 0 && prefix < plan.steps.length) state.bootingCachedLayer = prefix - 1;
      if (prefix === 0) {
        const iso = state.files.get(plan.steps[0]!.id)?.[0];
        if (!iso) throw new PlanShapeError(`the os-install step of ${plan.recipe.file} has no install ISO input; this is a bug in the planner`);
        const media: Media[] = [{ path: iso.path, role: "install" }, { path: state.answersIso!, role: "answers" }];
        await deps.driver.attachMedia(vm, media);
      } else {
        note(env, ctx.stepId, `resuming from the cached layer of ${plan.steps[prefix - 1]!.id}${base?.state ? " and its saved VM state" : ""}`);
      }
      return undefined;
    },
  };
}
