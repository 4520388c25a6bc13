import type { Rule } from "../document.ts";
import { appDocs, explainMissing, isAppRef } from "./app-references.ts";
import { problemAt } from "./report.ts";

/** Every `dependsOn` entry of an app names a defined app. */
export const appDependencyMissing: Rule = {
  id: "app-dependency-missing",
  severity: "error",
  description: "every dependsOn entry of an app names an app defined in apps/",
  check(context) {
    const graph = appDocs(context);
    return context.apps.flatMap((doc) =>
      (doc.value.dependsOn ?? []).flatMap((ref, i) => {
        if (!isAppRef(ref) || graph.definitions(ref).length > 0) return [];
        const { known, hint } = explainMissing(ref, context, graph);
        return [problemAt(appDependencyMissing, doc, {
          pointer: `/dependsOn/${i}`,
          message: `${doc.value.name}@${doc.value.version} depends on ${ref}, which no app definition provides (${known}); a dependency is installed first, so it must be defined`,
          got: ref,
          hint,
        })];
      }),
    );
  },
};
