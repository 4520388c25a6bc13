/** The plan and diff renderings of the fixture project under test/fixtures/plan, as snapshots. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { diffPlans } from "../../src/recipe/diff.ts";
import { planProject } from "../../src/recipe/plan-project.ts";
import { renderDiff } from "../../src/recipe/render-diff.ts";
import { renderPlan, type PlanFormat } from "../../src/recipe/render-plan.ts";
import type { Snapshot } from "../support/snapshot.ts";
import { EXPECTED, FIXTURES } from "./plan-fixtures.ts";

export async function planned(file: string) {
  // The real loader, the real files: the snapshots show real checksums of the fixture files.
  const result = await planProject(file, { cwd: FIXTURES });
  assert.ok(result.ok, JSON.stringify(result.problems, null, 2));
  return result;
}

export const PLAN_RECIPES = ["plan-win-mcs", "plan-win-pvs", "plan-linux-mcs"] as const;
export const FORMATS = ["text", "markdown"] as const;
const EXTENSION: Readonly<Record<PlanFormat, string>> = { text: "txt", markdown: "md", json: "json" };

export const planSnapshot = (recipe: string, format: (typeof FORMATS)[number]): Snapshot => ({
  file: join(EXPECTED, `${recipe}.plan.${EXTENSION[format]}`),
  produce: async () => renderPlan((await planned(`recipes/${recipe}.yaml`)).plan, format),
});

export const diffSnapshot = (format: (typeof FORMATS)[number]): Snapshot => ({
  file: join(EXPECTED, `plan-win-mcs.diff.${EXTENSION[format]}`),
  produce: async () => renderDiff(diffPlans(await planned("recipes/plan-win-mcs.yaml"), await planned("next/plan-win-mcs.yaml")), format),
});

export const SNAPSHOTS: readonly Snapshot[] = [
  ...PLAN_RECIPES.flatMap((recipe) => FORMATS.map((format) => planSnapshot(recipe, format))),
  ...FORMATS.map(diffSnapshot),
];
