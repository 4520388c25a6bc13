/**
 * A planning failure points at the key that causes it (the path of a file that cannot be read,
 * in the recipe or in the app that declares it), never at 0:0, and replaces the warning that
 * foresaw it: one mistake, one problem.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { planProject } from "../../src/recipe/plan-project.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const ISO = "    path: ../files/test-os.iso\n    sha256: a55b68d7d3bddf121cc309b2bad282f86e4d9fc429e376edf27eb53ddfcd5f32\n";

describe("plan errors are placed on the key naming the file", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rebake-plan-pos-"));
    await cp(join(repo, "test/fixtures/valid"), dir, { recursive: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const cases: ReadonlyArray<{ name: string; recipe?: (t: string) => string; app?: (t: string) => string; expect: readonly string[] }> = [
    {
      name: "an unpinned ISO that is not there",
      recipe: (t) => t.replace(ISO, "    path: ../files/missing.iso\n"),
      expect: ["recipes/linux-pvs.yaml:10:5 error plan"],
    },
    {
      name: "an unpinned app source that is not there",
      app: (t) => t.replace(/  path: \.\.\/files\/hello-tool\.sh\n  sha256: [0-9a-f]+\n/, "  path: ../files/missing.sh\n"),
      expect: ["apps/hello-tool.yaml:6:3 error plan"],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const recipeFile = join(dir, "recipes/linux-pvs.yaml");
      const appFile = join(dir, "apps/hello-tool.yaml");
      const [recipe, app] = [await readFile(recipeFile, "utf8"), await readFile(appFile, "utf8")];
      try {
        if (c.recipe) await writeFile(recipeFile, c.recipe(recipe));
        if (c.app) await writeFile(appFile, c.app(app));
        const planned = await planProject("recipes/linux-pvs.yaml", { cwd: dir });
        assert.equal(planned.ok, false);
        assert.deepEqual(planned.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.severity} ${p.rule}`), c.expect);
      } finally {
        await writeFile(recipeFile, recipe);
        await writeFile(appFile, app);
      }
    });
  }
});
