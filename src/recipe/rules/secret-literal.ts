import type { Rule, SourceDocument } from "../document.ts";
import type { Recipe } from "../model.ts";
import type { Problem } from "../problem.ts";
import { problemAt } from "./report.ts";
import { appCommands, readTextIfPresent, recipeCommands, recipeScripts, scriptText, type ReadText } from "./scripts.ts";

/** A way a credential is written into a command line; the `secret` group holds the literal. */
interface SecretPattern {
  readonly what: string;
  /** Global; named group `secret` is the credential, `full` bounds what is shown (masked). */
  readonly pattern: RegExp;
}

const QUOTED_OR_BARE = String.raw`(?:(['"])(?<quoted>[^'"\r\n]+)\1|(?<bare>[^\s'";|&]+))`;

const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    what: "a literal password parameter",
    pattern: new RegExp(String.raw`(?<![\w-])-(?:Password|Passwd|Secret|Token|ApiKey|AccessKey|ProductKey)[\s:]+${QUOTED_OR_BARE}`, "gi"),
  },
  {
    what: "a literal password turned into a SecureString",
    pattern: new RegExp(String.raw`ConvertTo-SecureString\s+(?:-String\s+)?${QUOTED_OR_BARE}`, "gi"),
  },
  {
    what: "a literal password switch",
    pattern: new RegExp(String.raw`(?<![\w/:])/(?:p|pd|po|pass|password|passwordd|passwordo|pwd)[:=]${QUOTED_OR_BARE}`, "gi"),
  },
  {
    what: "a literal password option",
    pattern: new RegExp(String.raw`(?<![\w-])--(?:password|passwd|secret|token|api-key)(?:=|\s+)${QUOTED_OR_BARE}`, "gi"),
  },
  {
    what: "a password assigned as a literal",
    pattern: /(?:\$\{?)?\b[A-Za-z_]*(?:password|passwd|pwd|secret|token|api_?key)\}?\s*=\s*(['"])(?<quoted>[^'"\r\n]+)\1/gi,
  },
  {
    what: "a Windows product key",
    pattern: /\b(?<bare>[A-Z0-9]{5}(?:-[A-Z0-9]{5}){4})\b/g,
  },
];

/**
 * Values that are not credentials: variables ($x, $env:X, %X%, ${X}), placeholders ({file},
 * <password>), secret references, the "prompt me" star, and MSBuild-style properties (/p:A=B).
 */
const NOT_A_LITERAL = /^(?:\$|%[^%]+%|\{[^}]*\}|<[^>]*>$|env:|pulumi:|\*$|\()|=/;

/** Found credentials, already masked for display: a secret must not reach logs through `got`. */
export function findLiteralSecrets(text: string): { readonly what: string; readonly shown: string }[] {
  const found: { what: string; shown: string }[] = [];
  // One credential can match several patterns (-ProductKey 'XXXXX-...'): report it once.
  const seen = new Set<string>();
  for (const { what, pattern } of SECRET_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const secret = match.groups?.["quoted"] ?? match.groups?.["bare"];
      if (secret === undefined || NOT_A_LITERAL.test(secret) || seen.has(secret)) continue;
      seen.add(secret);
      found.push({ what, shown: match[0].replace(secret, mask(secret)) });
    }
  }
  return found;
}

/** Keeps the last group of a product key (as Windows shows it); hides everything of a password. */
function mask(secret: string): string {
  const groups = secret.split("-");
  return groups.length === 5 ? [...groups.slice(0, 4).map(() => "*****"), groups[4]].join("-") : "***";
}

const HINT = "pass it in from the environment instead ($env:NAME in PowerShell, %NAME% in cmd, $NAME in sh) and give it to the build as a secret; the product key belongs in os.productKey: env:NAME";

function recipeSecrets(rule: Rule, doc: SourceDocument<Recipe>, read: ReadText): Problem[] {
  const texts = [
    ...recipeScripts(doc.value).flatMap((declared) => {
      const text = scriptText(declared, doc.path, read);
      return text === undefined ? [] : [{ ...text, label: declared.label }];
    }),
    ...recipeCommands(doc.value),
  ];
  return texts.flatMap(({ pointer, text, label }) =>
    findLiteralSecrets(text).map(({ what, shown }) =>
      problemAt(rule, doc, {
        pointer,
        message: `${label} contains ${what}; secrets are references (env:NAME, pulumi:key) resolved at build time, never literals: a recipe lives in git, plans, logs and the image hash`,
        got: shown,
        hint: HINT,
      }),
    ),
  );
}

/** No literal credential or product key in any command text of a recipe or app. */
export function createSecretLiteral(read: ReadText = readTextIfPresent): Rule {
  const rule: Rule = {
    id: "secret-literal",
    severity: "error",
    description: "no literal password, token or product key in scripts, install commands or VDA options",
    check: (context) => [
      ...context.recipes.flatMap((doc) => recipeSecrets(rule, doc, read)),
      ...context.apps.flatMap((doc) =>
        appCommands(doc.value).flatMap(({ pointer, text, label }) =>
          findLiteralSecrets(text).map(({ what, shown }) =>
            problemAt(rule, doc, {
              pointer,
              message: `${label} contains ${what}; secrets are references resolved at build time, never literals in an app definition`,
              got: shown,
              hint: HINT,
            }),
          ),
        ),
      ),
    ],
  };
  return rule;
}

export const secretLiteral = createSecretLiteral();
