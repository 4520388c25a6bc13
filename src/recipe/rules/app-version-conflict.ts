import type { Rule } from "../document.ts";
import { orderApps } from "../resolve.ts";
import { appDocs } from "./app-references.ts";
import { groupBy } from "./group.ts";
import { problemAt } from "./report.ts";

/** A recipe installs one version of each app, counting the dependencies resolution adds. */
export const appVersionConflict: Rule = {
  id: "app-version-conflict",
  severity: "error",
  description: "a recipe installs one version of each app, dependencies included",
  check(context) {
    const graph = appDocs(context);
    return context.recipes.flatMap((doc) => {
      const roots = doc.value.apps ?? [];
      const ordered = orderApps(roots, graph, { strict: false, requiredBy: doc.file });
      return [...groupBy(ordered, (entry) => entry.item.value.name).values()].flatMap((versions) => {
        const [first, ...others] = versions;
        if (first === undefined) return [];
        const firstKey = graph.key(first.item);
        return others.map((entry) => {
          const key = graph.key(entry.item);
          return problemAt(appVersionConflict, doc, {
            pointer: `/apps/${entry.root}`,
            message: `${key} (through apps[${entry.root}] ${roots[entry.root]}) and ${firstKey} (through apps[${first.root}] ${roots[first.root]}) would both be installed; an image holds one version of each app`,
            got: key,
            hint: `use one version: change the recipe entry or the dependsOn that asks for ${key}`,
          });
        });
      });
    });
  },
};
