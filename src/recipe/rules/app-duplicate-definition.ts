import type { Rule } from "../document.ts";
import { appKey } from "../app-key.ts";
import { groupBy } from "./group.ts";
import { problemAt } from "./report.ts";

/**
 * No two app files define the same `name@version`. Every definition is reported, each naming the
 * others, so the result does not depend on the order files were loaded in.
 */
export const appDuplicateDefinition: Rule = {
  id: "app-duplicate-definition",
  severity: "error",
  description: "no two app files define the same name@version",
  check(context) {
    return [...groupBy(context.apps, (doc) => appKey(doc.value)).entries()].flatMap(([key, docs]) =>
      docs.length < 2
        ? []
        : docs.map((doc) => {
            const others = docs.filter((other) => other !== doc).map((other) => other.file);
            return problemAt(appDuplicateDefinition, doc, {
              pointer: "/name",
              message: `app ${key} is also defined in ${others.join(", ")}; two definitions of one name@version make every reference to it ambiguous`,
              got: key,
              hint: `keep one of ${[doc.file, ...others].join(", ")} and delete the others, or give them different versions`,
            });
          }),
    );
  },
};
