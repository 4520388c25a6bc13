/** Recipe builders for answer-file tests: the smallest valid recipe, with the fields a case varies. */
import type { OsSpec, Recipe } from "../../src/recipe/model.ts";

type Overrides = Partial<Omit<Recipe, "os">> & { readonly os?: Partial<OsSpec> };

export function linuxRecipe(overrides: Overrides = {}): Recipe {
  const { os, ...rest } = overrides;
  return {
    metadata: { name: "linux-demo", version: "1.0.0" },
    target: { kind: "mcs" },
    ...rest,
    os: { family: "linux", iso: { path: "testos.iso" }, ...os },
  };
}

export function windowsRecipe(overrides: Overrides = {}): Recipe {
  const { os, ...rest } = overrides;
  return {
    metadata: { name: "win11-vdi", version: "2.1.0" },
    target: { kind: "mcs" },
    ...rest,
    os: { family: "windows", iso: { path: "win11.iso" }, edition: "Windows 11 Enterprise", ...os },
  };
}
