import type { Rule, SourceDocument } from "../document.ts";
import type { App, Recipe } from "../model.ts";
import type { Problem } from "../problem.ts";
import { findLiteralSecrets, URL_CREDENTIALS } from "../secret-patterns.ts";
import { describePointer } from "../schema-validation.ts";
import { stringLeaves } from "../string-leaves.ts";
import { problemAt } from "./report.ts";
import { appCommands, readTextIfPresent, recipeCommands, recipeScripts, scriptText, type ReadText } from "./scripts.ts";

const URL_HINT = "leave the user and password out of the URL and give them to the build as secrets (env:NAME or pulumi:key), e.g. a url: https://host/path with credentials from the environment";

/** Credentials in URLs anywhere outside command text (ISO urls, app sources, driver sources). */
function urlCredentials(rule: Rule, doc: SourceDocument<Recipe | App>, scanned: ReadonlySet<string>): Problem[] {
  return stringLeaves(doc.value)
    .filter(({ pointer }) => !scanned.has(pointer))
    .flatMap(({ pointer, text }) =>
      findLiteralSecrets(text, [URL_CREDENTIALS]).map(({ shown }) =>
        problemAt(rule, doc, { pointer, message: `${describePointer(pointer)} holds a user and password in its URL; a recipe, app or stack lives in git, plans and logs`, got: shown, hint: URL_HINT }),
      ),
    );
}

const HINT = 'pass it in from the environment instead ($env:NAME in PowerShell; "!NAME!" in cmd after setlocal EnableDelayedExpansion, so a quote or & in the value stays literal; "$NAME" in sh) and give it to the build as a secret; the product key belongs in os.productKey: env:NAME';

function recipeSecrets(rule: Rule, doc: SourceDocument<Recipe>, read: ReadText): Problem[] {
  const texts: { pointer: string; text: string; label: string }[] = [
    ...recipeScripts(doc.value).flatMap((declared) => {
      const text = scriptText(declared, doc.path, read);
      return text === undefined ? [] : [{ ...text, label: declared.label }];
    }),
    ...recipeCommands(doc.value),
  ];
  const scanned = new Set(texts.map((t) => t.pointer));
  for (const declared of recipeScripts(doc.value)) scanned.add(`${declared.pointer}/run`);
  return [...urlCredentials(rule, doc, scanned), ...texts.flatMap(({ pointer, text, label }) =>
    findLiteralSecrets(text).map(({ what, shown }) =>
      problemAt(rule, doc, {
        pointer,
        message: `${label} contains ${what}; secrets are references (env:NAME, pulumi:key) resolved at build time, never literals: a recipe lives in git, plans, logs and the image hash`,
        got: shown,
        hint: HINT,
      }),
    ),
  )];
}

/** No literal credential or product key in any command text of a recipe or app. */
export function createSecretLiteral(read: ReadText = readTextIfPresent): Rule {
  const rule: Rule = {
    id: "secret-literal",
    severity: "error",
    description: "no literal password, token or product key in scripts, install commands or VDA options",
    check: (context) => [
      ...context.recipes.flatMap((doc) => recipeSecrets(rule, doc, read)),
      ...context.apps.flatMap((doc) => [
        ...urlCredentials(rule, doc, new Set(appCommands(doc.value).map((c) => c.pointer))),
        ...appCommands(doc.value).flatMap(({ pointer, text, label }) =>
          findLiteralSecrets(text).map(({ what, shown }) =>
            problemAt(rule, doc, {
              pointer,
              message: `${label} contains ${what}; secrets are references resolved at build time, never literals in an app definition`,
              got: shown,
              hint: HINT,
            }),
          ),
        ),
      ]),
    ],
  };
  return rule;
}

export const secretLiteral = createSecretLiteral();
