import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { diffPlans } from "../../src/recipe/diff.ts";
import { planProject } from "../../src/recipe/plan-project.ts";
import { renderDiff } from "../../src/recipe/render-diff.ts";
import { renderPlan, type PlanFormat } from "../../src/recipe/render-plan.ts";
import { EXPECTED, FIXTURES } from "./plan-fixtures.ts";

/** Compares with a committed file; UPDATE_SNAPSHOTS=1 rewrites it (review the git diff). */
async function matchesSnapshot(actual: string, name: string): Promise<void> {
  const path = join(EXPECTED, name);
  if (process.env.UPDATE_SNAPSHOTS) {
    await writeFile(`${path}.tmp`, actual);
    await rename(`${path}.tmp`, path);
  }
  assert.equal(actual, await readFile(path, "utf8"), `${name} differs; rerun with UPDATE_SNAPSHOTS=1 if the change is intended`);
}

async function planned(file: string) {
  // The real loader, the real files: the snapshots show real checksums of the fixture files.
  const result = await planProject(file, { cwd: FIXTURES });
  assert.ok(result.ok, JSON.stringify(result.problems, null, 2));
  return result;
}

const EXTENSION: Readonly<Record<PlanFormat, string>> = { text: "txt", markdown: "md", json: "json" };

describe("plan snapshots", () => {
  for (const recipe of ["plan-win-mcs", "plan-win-pvs", "plan-linux-mcs"]) {
    for (const format of ["text", "markdown"] as const) {
      it(`${recipe} as ${format}`, async () => {
        const { plan } = await planned(`recipes/${recipe}.yaml`);
        await matchesSnapshot(renderPlan(plan, format), `${recipe}.plan.${EXTENSION[format]}`);
      });
    }
  }

  it("json carries recipe, hash, steps with id, kind, title, hash, and warnings", async () => {
    const { plan } = await planned("recipes/plan-win-mcs.yaml");
    const json = JSON.parse(renderPlan(plan, "json"));
    assert.deepEqual(json.recipe, { name: "plan-win-mcs", version: "1.0.0", file: "recipes/plan-win-mcs.yaml" });
    assert.match(json.hash, /^[a-f0-9]{64}$/);
    for (const step of json.steps) for (const key of ["id", "kind", "title", "hash", "reason", "reboot", "commands"]) assert.ok(key in step, key);
    assert.equal(json.warnings.length, 1);
  });
});

describe("diff snapshots", () => {
  for (const format of ["text", "markdown"] as const) {
    it(`plan-win-mcs 1.0.0 -> 1.1.0 as ${format}`, async () => {
      const [before, after] = [await planned("recipes/plan-win-mcs.yaml"), await planned("next/plan-win-mcs.yaml")];
      await matchesSnapshot(renderDiff(diffPlans(before, after), format), `plan-win-mcs.diff.${EXTENSION[format]}`);
    });
  }

  it("an unchanged recipe says so", async () => {
    const plan = await planned("recipes/plan-win-pvs.yaml");
    assert.match(renderDiff(diffPlans(plan, plan), "markdown"), /No change to the image/);
    assert.match(renderDiff(diffPlans(plan, plan), "text"), /No change to the image/);
  });
});
