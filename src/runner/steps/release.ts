/**
 * Release: the golden VM is powered off and its guest channel closed. MCS: the VM is snapshotted
 * and kept as the build's output (the snapshot the catalogs point at). PVS: the VM stays until the
 * capture has exported its disk.
 */
import type { Step } from "../step.ts";
import { snapshotName, type BuildEnv, type BuildState } from "./build-state.ts";

export function releaseStep(env: BuildEnv): Step<BuildState> {
  const { request, deps } = env;
  return {
    name: "release-vm",
    title: env.isPvs ? "Release the golden VM" : "Snapshot the golden VM",
    async run(_ctx, state) {
      const vm = state.vm;
      if (!vm) return { outcome: "skipped", why: "no VM was needed: every step is cached" };
      if (state.running) await deps.driver.powerOff(vm);
      state.running = false;
      state.releaseChannel?.();
      await state.channel?.close();
      state.channel = undefined;
      if (env.isPvs) return undefined;
      const name = snapshotName(request, state.buildId);
      const { ref, placement } = await deps.driver.snapshot(vm, name);
      state.outputs.push({ kind: "snapshot", name, ref, ...(placement ? { placement } : {}), vm: { name: vm.name, id: vm.id } });
      // The MCS golden VM holds the snapshot the catalogs will point at: it is an output.
      state.releaseVm?.();
      await deps.driver.release(vm);
      state.vm = undefined;
      return undefined;
    },
  };
}
