/** The build manifest from the plan, the step records and what the steps left in the state. */
import type { BuildManifest, ManifestInput, ManifestStep } from "../manifest/model.ts";
import type { StepRecord } from "./run-steps.ts";
import { LOG_DIR, type BuildDeps, type BuildRequest, type BuildState } from "./steps/build-state.ts";

export function manifestOf(request: BuildRequest, deps: BuildDeps, state: BuildState, records: readonly StepRecord[], started: Date, finished: Date): BuildManifest {
  const { plan } = request;
  const planStep = new Map(plan.steps.map((s) => [s.id, s]));
  const inputs: ManifestInput[] = plan.steps.flatMap((step) => {
    const files = state.files.get(step.id);
    return step.inputs.map((input, i): ManifestInput => {
      const file = files?.[i];
      const unpinned = input.unpinnedReason ? { unpinnedReason: input.unpinnedReason } : {};
      if (file) return { name: input.name, step: step.id, origin: file.origin, sha256: file.sha256, size: file.size, fetched: true, ...unpinned };
      const sha256 = input.sha256 ?? input.source.sha256;
      const origin = input.source.url ?? input.resolvedPath ?? input.source.path ?? "";
      return { name: input.name, step: step.id, origin, ...(sha256 ? { sha256 } : {}), fetched: false, ...unpinned };
    });
  });
  const steps: ManifestStep[] = records.map((r) => {
    const p = planStep.get(r.id);
    const exitCode = state.exitCodes.get(r.id);
    const ran = p !== undefined && r.status === "ok";
    return {
      id: r.id,
      title: r.title,
      status: r.status === "cached" || r.status === "skipped" || r.status === "failed" ? r.status : "ok",
      cacheHit: r.status === "cached",
      ...(r.why !== undefined ? { why: r.why } : {}),
      ...(p ? { hash: p.hash } : {}),
      start: r.startedAt,
      end: r.endedAt,
      durationMs: r.durationMs,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(ran ? { log: `${LOG_DIR}/${r.id}.log` } : {}),
    };
  });
  return {
    manifestVersion: 1,
    buildId: state.buildId,
    recipe: { name: plan.recipe.name, version: plan.recipe.version, file: plan.recipe.file, hash: plan.hash },
    target: plan.target,
    driver: deps.driver.name,
    started: started.toISOString(),
    finished: finished.toISOString(),
    inputs,
    steps,
    outputs: state.outputs,
    tools: state.tools,
    timings: {
      totalMs: finished.getTime() - started.getTime(),
      inGuestMs: state.spent.inGuestMs,
      bootMs: state.spent.bootMs,
      captureMs: state.spent.captureMs,
    },
    warnings: plan.warnings,
    ...(state.resumedFromMemory !== undefined ? { resumedFromMemory: state.resumedFromMemory } : {}),
    ...(state.verification ? { verification: state.verification } : {}),
  };
}
