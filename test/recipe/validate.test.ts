import { describe, it, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Rule, RuleContext } from "../../src/recipe/document.ts";
import { findProjectRoot, loadProject } from "../../src/recipe/project.ts";
import { validatePaths } from "../../src/recipe/validate.ts";

const VALID = fileURLToPath(new URL("../fixtures/valid", import.meta.url));

/** A project copied from test/fixtures/valid: recipes/linux-pvs.yaml, apps/hello-tool.yaml, files/. */
let project: string;
beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), "rebake-validate-"));
  await cp(VALID, project, { recursive: true });
});
afterEach(() => rm(project, { recursive: true, force: true }));

async function rewrite(file: string, from: string, to: string): Promise<void> {
  const path = join(project, file);
  const text = await readFile(path, "utf8");
  assert.ok(text.includes(from));
  await writeFile(path, text.replace(from, to));
}

/** Records what it was given; reports nothing. */
function spyRule(seen: RuleContext[]): Rule {
  return { id: "spy", severity: "error", description: "records its context", check: (context) => (seen.push(context), []) };
}

describe("validatePaths", () => {
  it("with no paths, checks recipes/ and apps/ under cwd", async () => {
    const result = await validatePaths([], { cwd: project, rules: [] });
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.files, ["apps/hello-tool.yaml", "recipes/linux-pvs.yaml"]);
    assert.deepEqual(result.recipes.map((r) => r.value.metadata.name), ["linux-pvs"]);
    assert.deepEqual(result.apps.map((a) => a.value.name), ["hello-tool"]);
  });

  it("a named recipe is checked with every app of its project", async () => {
    const seen: RuleContext[] = [];
    const result = await validatePaths(["recipes/linux-pvs.yaml"], { cwd: project, rules: [spyRule(seen)] });
    assert.deepEqual(result.files, ["apps/hello-tool.yaml", "recipes/linux-pvs.yaml"]);
    assert.deepEqual(seen.map((c) => [c.recipes.length, c.apps.length]), [[1, 1]]);
  });

  it("directories are searched for .yaml and .yml files", async () => {
    await writeFile(join(project, "apps/other.yml"), "name: other\n");
    await writeFile(join(project, "apps/notes.txt"), "not yaml");
    const result = await validatePaths(["apps"], { cwd: project, rules: [] });
    assert.deepEqual(result.files, ["apps/hello-tool.yaml", "apps/other.yml"]);
  });

  it("collects the problems of every file, sorted by file and position", async () => {
    await rewrite("apps/hello-tool.yaml", "reboot: never", "reboot: nope");
    await rewrite("recipes/linux-pvs.yaml", "  cpus: 2", "  cpus: 0");
    await rewrite("recipes/linux-pvs.yaml", "  firmware: bios", "  firmware: efi");
    const result = await validatePaths(["recipes", "apps", "missing.yaml"], { cwd: project, rules: [] });
    assert.deepEqual(result.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.rule}`), [
      "apps/hello-tool.yaml:13:9 schema-enum",
      "missing.yaml:0:0 file-not-found",
      "recipes/linux-pvs.yaml:16:9 schema-range",
      "recipes/linux-pvs.yaml:19:13 schema-enum",
    ]);
    assert.deepEqual(result.recipes, []);
    assert.deepEqual(result.apps, []);
  });

  it("rules see only documents that match the schema", async () => {
    await writeFile(join(project, "apps/broken.yaml"), "name: broken\nversion: \"1\"\nsource: {}\ninstall: {linux: {command: x}}\n");
    const seen: RuleContext[] = [];
    const result = await validatePaths([], { cwd: project, rules: [spyRule(seen)] });
    assert.deepEqual(seen.map((c) => c.apps.map((a) => a.value.name)), [["hello-tool"]]);
    assert.deepEqual(result.problems.map((p) => p.rule), ["schema-required"]);
  });

  it("a rule that throws becomes an internal-rule-error and the other rules still run", async () => {
    const seen: RuleContext[] = [];
    const broken: Rule = { id: "broken", severity: "error", description: "throws", check: () => { throw new TypeError("boom"); } };
    const result = await validatePaths([], { cwd: project, rules: [broken, spyRule(seen)] });
    assert.deepEqual(result.problems.map((p) => [p.rule, p.message]), [["internal-rule-error", "rule 'broken' failed: boom"]]);
    assert.equal(seen.length, 1);
  });

  it("rule problems are returned with the others", async () => {
    const warn: Rule = {
      id: "demo-warning", severity: "warning", description: "warns on every recipe",
      check: ({ recipes }) => recipes.map((r) => ({
        file: r.file, ...r.locate("/metadata/name"), rule: "demo-warning", severity: "warning", message: "just so",
      })),
    };
    const result = await validatePaths([], { cwd: project, rules: [warn] });
    assert.deepEqual(result.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.rule}`), ["recipes/linux-pvs.yaml:3:9 demo-warning"]);
  });

  it("an empty directory without recipes/ or apps/ is a problem, not a silent success", async () => {
    const empty = await mkdtemp(join(tmpdir(), "rebake-empty-"));
    try {
      const result = await validatePaths([], { cwd: empty, rules: [] });
      assert.deepEqual(result.problems.map((p) => p.rule), ["file-not-found"]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe("loadProject", () => {
  it("returns the schema-valid recipe with the apps of its project", async () => {
    const loaded = await loadProject("recipes/linux-pvs.yaml", { cwd: project, rules: [] });
    assert.equal(loaded.root, project);
    assert.equal(loaded.recipe?.value.target.kind, "pvs");
    assert.equal(loaded.recipe?.file, "recipes/linux-pvs.yaml");
    assert.deepEqual(loaded.apps.map((a) => a.value.name), ["hello-tool"]);
    assert.deepEqual(loaded.problems, []);
  });

  it("finds the project from a nested recipe and from another working directory", async () => {
    await mkdir(join(project, "recipes/team"), { recursive: true });
    await cp(join(project, "recipes/linux-pvs.yaml"), join(project, "recipes/team/copy.yaml"));
    const loaded = await loadProject(join(project, "recipes/team/copy.yaml"), { cwd: tmpdir(), rules: [] });
    assert.equal(loaded.root, project);
    assert.equal(loaded.apps.length, 1);
  });

  it("an invalid recipe comes back without a document but with its problems", async () => {
    await rewrite("recipes/linux-pvs.yaml", "  vdiskName: linux-pvs\n", "");
    const loaded = await loadProject("recipes/linux-pvs.yaml", { cwd: project, rules: [] });
    assert.equal(loaded.recipe, undefined);
    assert.deepEqual(loaded.problems.map((p) => [p.rule, p.line, p.col]), [["schema-required", 31, 1]]);
  });

  it("an app given as a recipe is named as such", async () => {
    const loaded = await loadProject("apps/hello-tool.yaml", { cwd: project, rules: [] });
    assert.equal(loaded.recipe, undefined);
    assert.deepEqual(loaded.problems.map((p) => p.rule), ["not-a-recipe"]);
  });

  it("runs the rules over the recipe and the apps", async () => {
    const seen: RuleContext[] = [];
    await loadProject("recipes/linux-pvs.yaml", { cwd: project, rules: [spyRule(seen)] });
    assert.deepEqual(seen.map((c) => [c.recipes.length, c.apps.length]), [[1, 1]]);
  });

  it("a missing recipe is a file-not-found problem", async () => {
    const loaded = await loadProject("recipes/nope.yaml", { cwd: project, rules: [] });
    assert.deepEqual(loaded.problems.map((p) => [p.file, p.rule]), [["recipes/nope.yaml", "file-not-found"]]);
  });
});

describe("findProjectRoot", () => {
  it("is the recipe's own directory when no ancestor holds apps/", async () => {
    const lone = await mkdtemp(join(tmpdir(), "rebake-lone-"));
    try {
      assert.equal(await findProjectRoot(join(lone, "r.yaml")), lone);
    } finally {
      await rm(lone, { recursive: true, force: true });
    }
  });
});

describe("the valid base files with the real rules", () => {
  it("have no problem at all", async () => {
    const result = await validatePaths([VALID], { cwd: VALID });
    assert.deepEqual(result.problems, []);
  });
});
