/** App resolution: install order, de-duplication and the typed errors. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { appKey, InvalidAppRefError, parseAppRef } from "../../src/recipe/app-key.ts";
import type { App } from "../../src/recipe/model.ts";
import { AmbiguousAppError, AppDependencyCycleError, AppNotFoundError, AppResolutionError, resolveApps } from "../../src/recipe/resolve.ts";
import { app, pvsRecipe } from "./helpers/recipes.ts";

describe("parseAppRef and appKey", () => {
  const good: readonly (readonly [string, string, string])[] = [
    ["7zip@24.07", "7zip", "24.07"],
    ["notepad-plus-plus@8.6.9", "notepad-plus-plus", "8.6.9"],
    ["dotnet.runtime@8.0.6+build.1", "dotnet.runtime", "8.0.6+build.1"],
  ];
  for (const [ref, name, version] of good) {
    it(`parses ${ref} and builds it back`, () => {
      assert.deepEqual(parseAppRef(ref), { name, version });
      assert.equal(appKey({ name, version }), ref);
    });
  }
  for (const bad of ["7zip", "@1.0", "7zip@", "a@1@2", ""]) {
    it(`rejects ${JSON.stringify(bad)} naming the expected form`, () => {
      assert.throws(() => parseAppRef(bad), (error: unknown) => error instanceof InvalidAppRefError && error.message.includes("name@version"));
    });
  }
});

function order(refs: readonly string[], apps: readonly App[]): string[] {
  const recipe = { ...pvsRecipe(), apps: [...refs] };
  return resolveApps(recipe, apps).map(appKey);
}

describe("resolveApps", () => {
  const catalog: readonly App[] = [
    app("vcredist", "14.40"),
    app("dotnet", "8.0.6"),
    app("erp", "4.2.0", { dependsOn: ["vcredist@14.40", "dotnet@8.0.6"] }),
    app("erp-addin", "1.0.0", { dependsOn: ["erp@4.2.0"] }),
    app("7zip", "24.07"),
    app("notepad", "8.6.9"),
  ];
  const rows: readonly { readonly name: string; readonly refs: readonly string[]; readonly expect: readonly string[] }[] = [
    { name: "keeps the recipe order", refs: ["notepad@8.6.9", "7zip@24.07"], expect: ["notepad@8.6.9", "7zip@24.07"] },
    { name: "puts dependencies first, in dependsOn order", refs: ["erp@4.2.0"], expect: ["vcredist@14.40", "dotnet@8.0.6", "erp@4.2.0"] },
    {
      name: "adds unlisted dependencies, transitively",
      refs: ["7zip@24.07", "erp-addin@1.0.0"],
      expect: ["7zip@24.07", "vcredist@14.40", "dotnet@8.0.6", "erp@4.2.0", "erp-addin@1.0.0"],
    },
    {
      name: "installs an app once when listed after something that needs it",
      refs: ["erp@4.2.0", "dotnet@8.0.6", "7zip@24.07"],
      expect: ["vcredist@14.40", "dotnet@8.0.6", "erp@4.2.0", "7zip@24.07"],
    },
    { name: "moves a listed dependency before its dependant", refs: ["erp@4.2.0", "vcredist@14.40"], expect: ["vcredist@14.40", "dotnet@8.0.6", "erp@4.2.0"] },
    { name: "returns nothing for a recipe without apps", refs: [], expect: [] },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(order(row.refs, catalog), row.expect));

  it("throws AppNotFoundError with the defined versions", () => {
    assert.throws(
      () => order(["7zip@23.01"], catalog),
      (error: unknown) => error instanceof AppNotFoundError && error instanceof AppResolutionError && error.ref === "7zip@23.01" && error.knownVersions.join() === "24.07",
    );
  });
  it("throws AppNotFoundError for a missing dependency, naming who needs it", () => {
    assert.throws(() => order(["a@1"], [app("a", "1", { dependsOn: ["b@1"] })]), (error: unknown) => error instanceof AppNotFoundError && error.requiredBy === "a@1");
  });
  it("throws AmbiguousAppError for a name@version defined twice", () => {
    assert.throws(() => order(["7zip@24.07"], [app("7zip", "24.07"), app("7zip", "24.07")]), (error: unknown) => error instanceof AmbiguousAppError && error.count === 2);
  });
  it("throws AppDependencyCycleError with the cycle path", () => {
    const apps = [app("a", "1", { dependsOn: ["b@1"] }), app("b", "1", { dependsOn: ["a@1"] })];
    assert.throws(() => order(["a@1"], apps), (error: unknown) => error instanceof AppDependencyCycleError && error.message.includes("a@1 -> b@1 -> a@1"));
  });
});
