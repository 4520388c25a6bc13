import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Rule, RuleContext, SourceDocument } from "../document.ts";
import type { Recipe } from "../model.ts";
import { resolveReference } from "./file-references.ts";
import { problemAt, type Finding } from "./report.ts";
import { recipeScripts } from "./scripts.ts";

/** A script is either inline or a file next to the recipe, and the file is there. */
export function createScriptSource(exists: (absolutePath: string) => boolean = existsSync): Rule {
  const rule = { id: "script-source", severity: "error", description: "a custom step, seal script or check has exactly one of run and file, and the file exists" } as const;
  return {
    ...rule,
    check: (context) => context.recipes.flatMap((doc) => [...findings(doc, context)].map((f) => problemAt(rule, doc, f))),
  };
  function* findings(doc: SourceDocument<Recipe>, context: RuleContext): Generator<Finding> {
    for (const { pointer, label, script } of recipeScripts(doc.value)) {
      if (script.run !== undefined && script.file !== undefined) {
        yield { pointer, message: `${label} has both run and file; a script is either inline or a file, so one of them would be ignored`, got: { run: script.run, file: script.file }, hint: "keep run for an inline script or file for a script next to the recipe" };
      } else if (script.run === undefined && script.file === undefined) {
        yield { pointer, message: `${label} has neither run nor file, so there is nothing to run`, got: script.name, hint: "add run: <inline script> or file: <path relative to the recipe>" };
      } else if (script.file !== undefined) {
        const absolute = resolve(dirname(doc.path), script.file);
        const leaves = !script.outsideProject && !resolveReference(context, doc, script.file).inside;
        if (!leaves && !exists(absolute)) {
          yield { pointer: `${pointer}/file`, message: `${label} runs ${script.file}, which does not exist (looked for ${absolute})`, got: script.file, hint: "fix the path; it is relative to the recipe file" };
        }
      }
    }
  }
}

export const scriptSource = createScriptSource();
