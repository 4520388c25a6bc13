import type { Rule, SourceDocument } from "../document.ts";
import type { App, Recipe } from "../model.ts";
import type { Problem } from "../problem.ts";
import { fileReferences, resolveReference } from "./file-references.ts";
import { problemAt } from "./report.ts";

const rule = {
  id: "input-not-file",
  severity: "error",
  description: "a local input or script file is a regular, readable file (not a directory, pipe or device)",
} as const;

const WHAT: Readonly<Record<string, string>> = {
  directory: "a directory",
  special: "a special file (a pipe, device or socket)",
  unreadable: "unreadable",
};

export const inputNotFile: Rule = {
  ...rule,
  check: (context) =>
    [...context.recipes, ...context.apps].flatMap((doc: SourceDocument<Recipe> | SourceDocument<App>): Problem[] =>
      fileReferences(doc).flatMap((ref) => {
        const { absolute, inside, kind } = resolveReference(context, doc, ref.path);
        // Outside the project is its own problem (input-outside-project); missing ones are input-missing's and script-source's.
        if (!inside && !ref.outsideProject) return [];
        const what = WHAT[kind];
        if (!what) return [];
        return [problemAt(rule, doc, {
          pointer: ref.pointer,
          message: `${ref.label} names ${absolute}, which is ${what}, not a file rebake can hash and upload`,
          got: ref.path, hint: kind === "unreadable" ? "check its permissions" : "name the file itself",
        })];
      }),
    ),
};
