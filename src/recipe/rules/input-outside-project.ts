import type { Rule, SourceDocument } from "../document.ts";
import type { App, Recipe } from "../model.ts";
import type { Problem } from "../problem.ts";
import { fileReferences, resolveReference } from "./file-references.ts";
import { problemAt } from "./report.ts";

const rule = {
  id: "input-outside-project",
  severity: "error",
  description: "local inputs and script files stay inside the project unless outsideProject: {reason} allows it (then reported loudly)",
} as const;

/**
 * A recipe is reviewed, hashed and built as a project: a path that leaves it (`../../etc/passwd`,
 * `/etc/shadow`) would put a file nobody reviewed into the image.
 */
export const inputOutsideProject: Rule = {
  ...rule,
  check: (context) =>
    [...context.recipes, ...context.apps].flatMap((doc: SourceDocument<Recipe> | SourceDocument<App>): Problem[] =>
      fileReferences(doc).flatMap((ref) => {
        const { absolute, inside } = resolveReference(context, doc, ref.path);
        if (inside) return [];
        if (ref.outsideProject) {
          return [problemAt(rule, doc, {
            pointer: `${ref.owner}/outsideProject`, severity: "warning",
            message: `${ref.label} is OUTSIDE THE PROJECT (${absolute}): ${ref.outsideProject.reason}; nobody reviews it with the recipe`,
            got: ref.path, hint: "copy it into the project (and pin it) when you can",
          })];
        }
        return [problemAt(rule, doc, {
          pointer: ref.pointer,
          message: `${ref.label} leads outside the project (to ${absolute}); inputs are files of the project, reviewed with the recipe`,
          got: ref.path, hint: "move the file into the project, or add outsideProject: { reason: ... } beside it to say why it must live elsewhere",
        })];
      }),
    ),
};
