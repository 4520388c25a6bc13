/** Shared by the plan, hash and diff tests: the fixture project under test/fixtures/plan. */
import { readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { App, Recipe } from "../../src/recipe/model.ts";
import type { Plan } from "../../src/recipe/plan-model.ts";
import { createPlan, type PlanOptions } from "../../src/recipe/plan.ts";
import { sha256Hex, type HashFile } from "../../src/recipe/hash.ts";
import { resolveApps } from "../../src/recipe/resolve.ts";

export const FIXTURES = fileURLToPath(new URL("../fixtures/plan/", import.meta.url));
export const RECIPES = join(FIXTURES, "recipes");
export const EXPECTED = join(FIXTURES, "expected");

export function fixtureText(name: string): string {
  return readFileSync(join(RECIPES, `${name}.yaml`), "utf8");
}

export function fixtureRecipe(name: string): Recipe {
  return parse(fixtureText(name)) as Recipe;
}

export function fixtureApps(): App[] {
  const dir = join(FIXTURES, "apps");
  return readdirSync(dir).map((file) => parse(readFileSync(join(dir, file), "utf8")) as App);
}

/** Hashes by file name, so tests need no real installers and can say which file "changed". */
export function fakeHashFile(overrides: Readonly<Record<string, string>> = {}): HashFile & { calls: string[] } {
  const calls: string[] = [];
  const hash = async (path: string) => {
    calls.push(path);
    return sha256Hex(overrides[basename(path)] ?? `content of ${basename(path)}`);
  };
  return Object.assign(hash, { calls });
}

export async function planOf(recipe: Recipe, options: Partial<PlanOptions> = {}, apps: readonly App[] = fixtureApps()): Promise<Plan> {
  return createPlan(recipe, resolveApps(recipe, apps), {
    file: `recipes/${recipe.metadata.name}.yaml`,
    recipeDir: RECIPES,
    hashFile: fakeHashFile(),
    ...options,
  });
}

/** A deep copy changed by `edit`, for "what if the recipe said ..." cases. */
export function edited(recipe: Recipe, edit: (copy: any) => void): Recipe {
  const copy = structuredClone(recipe) as any;
  edit(copy);
  return copy as Recipe;
}
