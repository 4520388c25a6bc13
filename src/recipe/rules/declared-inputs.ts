/** Runs an input check over every recipe and app file. */
import type { Rule, RuleContext, SourceDocument } from "../document.ts";
import type { App, Recipe } from "../model.ts";
import { appInputs, recipeInputs, type DeclaredInput } from "./inputs.ts";
import { problemAt, type Finding } from "./report.ts";

export type InputCheck = (input: DeclaredInput, doc: SourceDocument<Recipe> | SourceDocument<App>, context: RuleContext) => Iterable<Finding>;

export function inputRule(rule: Pick<Rule, "id" | "severity" | "description">, check: InputCheck): Rule {
  return {
    ...rule,
    check: (context) => [
      ...context.recipes.flatMap((doc) => recipeInputs(doc.value).flatMap((input) => [...check(input, doc, context)].map((f) => problemAt(rule, doc, f)))),
      ...context.apps.flatMap((doc) => appInputs(doc.value).flatMap((input) => [...check(input, doc, context)].map((f) => problemAt(rule, doc, f)))),
    ],
  };
}
