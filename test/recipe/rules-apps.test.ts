/** Rules across files: app references, duplicates, dependency cycles, versions and OS families. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { RuleContext } from "../../src/recipe/document.ts";
import type { App } from "../../src/recipe/model.ts";
import { appDependencyCycle, dependencyCycles } from "../../src/recipe/rules/app-dependency-cycle.ts";
import { appDependencyMissing } from "../../src/recipe/rules/app-dependency-missing.ts";
import { appDuplicateDefinition } from "../../src/recipe/rules/app-duplicate-definition.ts";
import { appRefResolves } from "../../src/recipe/rules/app-ref-resolves.ts";
import { appVersionConflict } from "../../src/recipe/rules/app-version-conflict.ts";
import { osFamilyInstall } from "../../src/recipe/rules/os-family-install.ts";
import { recipeDuplicateName } from "../../src/recipe/rules/recipe-duplicate-name.ts";
import { appDoc, recipeDoc, ruleContext } from "./helpers/source-document.ts";
import { app, pvsRecipe } from "./helpers/recipes.ts";

function withApps(refs: readonly string[], apps: readonly App[], family: "windows" | "linux" = "windows"): RuleContext {
  const recipe = pvsRecipe();
  recipe.apps = [...refs];
  recipe.os.family = family;
  return ruleContext([recipeDoc(recipe), ...apps.map((a) => appDoc(a))]);
}

const CATALOG: readonly App[] = [
  app("7zip", "23.01"),
  app("7zip", "24.07"),
  app("vcredist", "14.40"),
  app("dotnet", "6.0.31"),
  app("dotnet", "8.0.6"),
  app("erp", "4.2.0", { dependsOn: ["vcredist@14.40", "dotnet@8.0.6"] }),
  app("reports", "2.1.0", { dependsOn: ["dotnet@6.0.31"] }),
  app("htop", "3.3.0", { install: { linux: { command: "apt-get install -y {file}", shell: "sh" } } }),
  app("lob", "1.0.0", { dependsOn: ["htop@3.3.0"], install: { windows: { command: "x", shell: "cmd" }, linux: { command: "y", shell: "sh" } } }),
];

describe("app-ref-resolves", () => {
  const rows: readonly { readonly refs: readonly string[]; readonly expect: readonly string[] }[] = [
    { refs: ["7zip@24.07", "erp@4.2.0"], expect: [] },
    { refs: ["7zip@24.07", "7zip@22.00"], expect: ["/apps/1 7zip is defined in versions 23.01, 24.07 | did you mean 7zip@23.01?"] },
    { refs: ["7-zip@24.07"], expect: ["/apps/0 no app named 7-zip is defined | did you mean 7zip@24.07?"] },
    { refs: ["chrome@126"], expect: ["/apps/0 no app named chrome is defined | add an app definition"] },
  ];
  for (const row of rows) {
    it(`${row.expect.length ? "rejects" : "accepts"} ${row.refs.join(", ")}`, () => {
      const problems = appRefResolves.check(withApps(row.refs, CATALOG));
      assert.equal(problems.length, row.expect.length);
      problems.forEach((p, i) => {
        const [pointer, known, hint] = (row.expect[i] ?? "").split(/ (.*?) \| /s);
        assert.equal(p.pointer, pointer);
        assert.ok(p.message.includes(known ?? ""), p.message);
        assert.ok(p.hint?.startsWith(hint ?? ""), p.hint);
      });
    });
  }
  it("rejects a reference defined twice, naming both files", () => {
    const context = ruleContext([recipeDoc({ ...pvsRecipe(), apps: ["7zip@24.07"] }), appDoc(app("7zip", "24.07"), "/apps/a.yaml"), appDoc(app("7zip", "24.07"), "/apps/b.yaml")]);
    const [problem, ...rest] = appRefResolves.check(context);
    assert.deepEqual(rest, []);
    assert.equal(problem?.pointer, "/apps/0");
    assert.match(problem?.message ?? "", /defined 2 times \(a\.yaml, b\.yaml\)/);
  });
});

describe("app-duplicate-definition and recipe-duplicate-name", () => {
  it("reports every definition of a duplicated name@version, each naming the others", () => {
    const docs = [appDoc(app("7zip", "24.07"), "/a/one.yaml"), appDoc(app("7zip", "24.07"), "/a/two.yaml"), appDoc(app("7zip", "24.07"), "/a/three.yaml"), appDoc(app("7zip", "23.01"))];
    const problems = appDuplicateDefinition.check(ruleContext(docs));
    assert.deepEqual(problems.map((p) => `${p.file} ${p.pointer}`), ["one.yaml /name", "two.yaml /name", "three.yaml /name"]);
    assert.match(problems[1]?.message ?? "", /also defined in one\.yaml, three\.yaml/);
  });
  it("reports both recipes that share a metadata.name", () => {
    const docs = [recipeDoc(pvsRecipe(), "/r/test-image.yaml"), recipeDoc(pvsRecipe(), "/r/copy/test-image.yaml"), recipeDoc({ ...pvsRecipe(), metadata: { name: "other", version: "1.0.0" } })];
    assert.deepEqual(recipeDuplicateName.check(ruleContext(docs)).map((p) => `${p.file} ${p.pointer}`), ["test-image.yaml /metadata/name", "test-image.yaml /metadata/name"]);
  });
});

describe("app dependencies", () => {
  it("app-dependency-missing reports undefined dependsOn entries with a suggestion", () => {
    const apps = [app("crm", "3.0.1", { dependsOn: ["vcredist@14.38", "vcredist@14.40"] }), app("vcredist", "14.40")];
    const problems = appDependencyMissing.check(ruleContext(apps.map((a) => appDoc(a))));
    assert.deepEqual(problems.map((p) => p.pointer), ["/dependsOn/0"]);
    assert.match(problems[0]?.hint ?? "", /did you mean vcredist@14\.40/);
  });
  const cycles: readonly { readonly name: string; readonly apps: readonly App[]; readonly expect: readonly string[] }[] = [
    { name: "no cycle in a diamond", apps: [app("a", "1", { dependsOn: ["b@1", "c@1"] }), app("b", "1", { dependsOn: ["d@1"] }), app("c", "1", { dependsOn: ["d@1"] }), app("d", "1")], expect: [] },
    { name: "a self-dependency", apps: [app("a", "1", { dependsOn: ["a@1"] })], expect: ["a@1 -> a@1"] },
    { name: "a two-app cycle, once", apps: [app("b", "1", { dependsOn: ["a@1"] }), app("a", "1", { dependsOn: ["b@1"] })], expect: ["a@1 -> b@1 -> a@1"] },
    {
      name: "a three-app cycle behind an entry point",
      apps: [app("entry", "1", { dependsOn: ["z@1"] }), app("z", "1", { dependsOn: ["m@1"] }), app("m", "1", { dependsOn: ["k@1"] }), app("k", "1", { dependsOn: ["z@1"] })],
      expect: ["k@1 -> z@1 -> m@1 -> k@1"],
    },
  ];
  for (const row of cycles) {
    it(`app-dependency-cycle finds ${row.name}`, () => {
      const docs = row.apps.map((a) => appDoc(a));
      assert.deepEqual(dependencyCycles(docs).map((c) => c.join(" -> ")), row.expect);
      assert.deepEqual(appDependencyCycle.check(ruleContext(docs)).map((p) => p.got), row.expect);
    });
  }
  it("app-dependency-cycle points at the dependsOn entry that starts the reported path", () => {
    const docs = [app("b", "1", { dependsOn: ["x@1", "a@1"] }), app("a", "1", { dependsOn: ["x@1", "b@1"] }), app("x", "1")].map((a) => appDoc(a));
    assert.deepEqual(appDependencyCycle.check(ruleContext(docs)).map((p) => `${p.file} ${p.pointer}`), ["a-1.yaml /dependsOn/1"]);
  });
});

describe("app-version-conflict", () => {
  it("accepts one version per app", () => assert.deepEqual(appVersionConflict.check(withApps(["erp@4.2.0", "dotnet@8.0.6"], CATALOG)), []));
  it("rejects two versions reached through dependencies, at the entry that adds the second", () => {
    const problems = appVersionConflict.check(withApps(["erp@4.2.0", "7zip@24.07", "reports@2.1.0"], CATALOG));
    assert.deepEqual(problems.map((p) => `${p.pointer} ${p.got}`), ["/apps/2 dotnet@6.0.31"]);
  });
  it("rejects two versions listed directly", () => {
    assert.deepEqual(appVersionConflict.check(withApps(["7zip@23.01", "7zip@24.07"], CATALOG)).map((p) => p.pointer), ["/apps/1"]);
  });
});

describe("os-family-install", () => {
  it("accepts apps with a command for the family", () => assert.deepEqual(osFamilyInstall.check(withApps(["htop@3.3.0", "lob@1.0.0"], CATALOG, "linux")), []));
  it("rejects a Windows-only app on Linux", () => {
    assert.deepEqual(osFamilyInstall.check(withApps(["htop@3.3.0", "7zip@24.07"], CATALOG, "linux")).map((p) => p.pointer), ["/apps/1"]);
  });
  it("blames the recipe entry that pulls in a dependency without a command", () => {
    const problems = osFamilyInstall.check(withApps(["lob@1.0.0"], CATALOG, "windows"));
    assert.deepEqual(problems.map((p) => `${p.pointer} ${p.got}`), ["/apps/0 htop@3.3.0"]);
    assert.match(problems[0]?.message ?? "", /a dependency of lob@1\.0\.0/);
  });
  it("skips references that do not resolve (app-ref-resolves reports them)", () => {
    assert.deepEqual(osFamilyInstall.check(withApps(["nope@1"], CATALOG)), []);
  });
});
