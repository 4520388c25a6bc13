import type { Rule } from "../document.ts";
import { groupBy } from "./group.ts";
import { problemAt } from "./report.ts";

/**
 * No two recipes share a metadata.name: the name identifies the image in plans, caches and
 * stacks. Every recipe of a clash is reported, each naming the others.
 */
export const recipeDuplicateName: Rule = {
  id: "recipe-duplicate-name",
  severity: "error",
  description: "no two recipes share a metadata.name",
  check(context) {
    return [...groupBy(context.recipes, (doc) => doc.value.metadata.name).entries()].flatMap(([name, docs]) =>
      docs.length < 2
        ? []
        : docs.map((doc) => {
            const others = docs.filter((other) => other !== doc).map((other) => other.file);
            return problemAt(recipeDuplicateName, doc, {
              pointer: "/metadata/name",
              message: `recipe name ${name} is also used by ${others.join(", ")}; the name identifies the image in plans, the build cache and the stacks`,
              got: name,
              hint: "rename all but one of the recipes (and each file to <name>.yaml)",
            });
          }),
    );
  },
};
