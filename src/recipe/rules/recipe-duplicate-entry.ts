import type { Recipe } from "../model.ts";
import type { Finding } from "./report.ts";
import { perRecipe } from "./report.ts";

/** Lists whose entries are identified by name; a duplicate makes plans, logs and reports ambiguous. */
const NAMED_LISTS: readonly { readonly pointer: string; readonly what: string; readonly items: (recipe: Recipe) => readonly { readonly name: string }[] }[] = [
  { pointer: "/drivers", what: "driver", items: (recipe) => recipe.drivers ?? [] },
  { pointer: "/steps", what: "custom step", items: (recipe) => recipe.steps ?? [] },
  { pointer: "/checks", what: "check", items: (recipe) => recipe.checks ?? [] },
  { pointer: "/seal/scripts", what: "seal script", items: (recipe) => recipe.seal?.scripts ?? [] },
];

function* duplicates(recipe: Recipe): Generator<Finding> {
  for (const list of NAMED_LISTS) {
    const seen = new Map<string, number>();
    for (const [i, item] of list.items(recipe).entries()) {
      const first = seen.get(item.name);
      if (first === undefined) {
        seen.set(item.name, i);
        continue;
      }
      yield {
        pointer: `${list.pointer}/${i}/name`,
        message: `${list.what} name ${item.name} is already used by ${list.pointer.slice(1)}[${first}]; names identify steps in plans, logs and the build cache`,
        got: item.name,
        hint: `give this ${list.what} a unique name or merge it into the first one`,
      };
    }
  }
  const listed = new Map<string, number>();
  for (const [i, ref] of (recipe.apps ?? []).entries()) {
    const first = listed.get(ref);
    if (first === undefined) {
      listed.set(ref, i);
      continue;
    }
    yield {
      pointer: `/apps/${i}`,
      message: `app ${ref} is already listed at apps[${first}]; an app is installed once`,
      got: ref,
      hint: "remove the second entry",
    };
  }
}

/** No duplicate names inside a recipe: drivers, custom steps, checks, seal scripts, apps. */
export const recipeDuplicateEntry = perRecipe(
  {
    id: "recipe-duplicate-entry",
    severity: "error",
    description: "no duplicate driver, custom step, check or seal script names in a recipe, and no app listed twice",
  },
  (doc) => duplicates(doc.value),
);
