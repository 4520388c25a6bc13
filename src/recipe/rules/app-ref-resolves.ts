import type { Rule } from "../document.ts";
import { appDocs, explainMissing, isAppRef } from "./app-references.ts";
import { problemAt } from "./report.ts";

/** Each `apps` entry of a recipe names exactly one app definition. */
export const appRefResolves: Rule = {
  id: "app-ref-resolves",
  severity: "error",
  description: "each recipe apps[] entry name@version resolves to exactly one app definition in apps/",
  check(context) {
    const graph = appDocs(context);
    return context.recipes.flatMap((doc) =>
      (doc.value.apps ?? []).flatMap((ref, i) => {
        if (!isAppRef(ref)) return [];
        const found = graph.definitions(ref);
        if (found.length === 1) return [];
        if (found.length === 0) {
          const { known, hint } = explainMissing(ref, context, graph);
          return [problemAt(appRefResolves, doc, {
            pointer: `/apps/${i}`,
            message: `app ${ref} resolves to no app definition (${known}); every app in the image comes from exactly one definition so a rebuild installs the same thing`,
            got: ref,
            hint,
          })];
        }
        const files = found.map((app) => app.file);
        return [problemAt(appRefResolves, doc, {
          pointer: `/apps/${i}`,
          message: `app ${ref} is defined ${found.length} times (${files.join(", ")}); a reference must resolve to exactly one definition`,
          got: ref,
          hint: `keep one definition of ${ref} and delete or re-version the others: ${files.slice(1).join(", ")}`,
        })];
      }),
    );
  },
};
