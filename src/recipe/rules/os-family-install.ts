import type { Rule } from "../document.ts";
import { orderApps } from "../resolve.ts";
import { appDocs } from "./app-references.ts";
import { problemAt } from "./report.ts";

/** Every app a recipe installs, dependencies included, has an install command for the recipe's OS family. */
export const osFamilyInstall: Rule = {
  id: "os-family-install",
  severity: "error",
  description: "every app a recipe installs (dependencies included) has an install command for the recipe's os.family",
  check(context) {
    const graph = appDocs(context);
    return context.recipes.flatMap((doc) => {
      const family = doc.value.os.family;
      const roots = doc.value.apps ?? [];
      return orderApps(roots, graph, { strict: false, requiredBy: doc.file }).flatMap(({ item, root }) => {
        const app = item.value;
        if (app.install?.[family] !== undefined) return [];
        const key = graph.key(item);
        const via = key === roots[root] ? "" : ` (a dependency of ${roots[root]})`;
        const has = Object.keys(app.install ?? {}).join(", ") || "none";
        return [problemAt(osFamilyInstall, doc, {
          pointer: `/apps/${root}`,
          message: `app ${key}${via} has no ${family} install command (it has: ${has}), but this recipe builds a ${family} image`,
          got: key,
          hint: `add install.${family} to ${item.file}, or drop the app from this recipe`,
        })];
      });
    });
  },
};
