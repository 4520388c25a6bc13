/**
 * The `powershell-syntax` check of `rebake validate`: every PowerShell step, seal script and check
 * (inline or a .ps1 file) goes through PowerShell's own parser, all of them in one pwsh process,
 * and each parse error is reported where the user wrote it: the recipe's line and column inside
 * an inline `run: |` block, or the .ps1 file's own line and column. Unlike the named rules it
 * needs a program (pwsh): without one it reports once that it did not run.
 */
import { dirname, resolve } from "node:path";
import type { PowerShellParser } from "../util/powershell-parser.ts";
import { PWSH_INSTALL_HINT } from "../util/pwsh.ts";
import type { SourceDocument } from "./document.ts";
import { displayPath } from "./load.ts";
import type { Recipe } from "./model.ts";
import type { Problem } from "./problem.ts";
import { readTextIfPresent, recipeScripts, type ReadText } from "./rules/scripts.ts";

export const POWERSHELL_SYNTAX_RULE = "powershell-syntax";

export interface PowerShellSyntaxOptions {
  /** Problems name .ps1 files relative to this directory. */
  readonly cwd: string;
  /** PowerShell's parser; null when pwsh is not installed (the check is skipped, once). */
  readonly parser: PowerShellParser | null;
  /** @default readTextIfPresent (a missing file is script-source's problem, not this check's) */
  readonly read?: ReadText;
}

/** One script to parse, and how a position inside it becomes a problem's position. */
interface Target {
  readonly text: string;
  readonly label: string;
  readonly at: (line: number, col: number) => Pick<Problem, "file" | "line" | "col" | "pointer">;
}

export async function checkPowerShellSyntax(recipes: readonly SourceDocument<Recipe>[], options: PowerShellSyntaxOptions): Promise<Problem[]> {
  const read = options.read ?? readTextIfPresent;
  const perRecipe = recipes.map((doc) => ({ doc, targets: targetsOf(doc, options.cwd, read) }));
  const targets = perRecipe.flatMap((r) => r.targets);
  if (targets.length === 0) return [];
  if (!options.parser) {
    const first = perRecipe.find((r) => r.targets.length > 0)!.doc;
    return [{
      file: first.file, line: 0, col: 0, rule: POWERSHELL_SYNTAX_RULE, severity: "warning",
      message: `the PowerShell syntax of ${targets.length} script${targets.length === 1 ? "" : "s"} was not checked: pwsh (PowerShell 7) is not installed`,
      hint: PWSH_INSTALL_HINT,
    }];
  }
  const results = await options.parser.parse(targets.map((t) => t.text));
  return targets.flatMap((target, i) =>
    (results[i] ?? []).map((error): Problem => ({
      ...target.at(error.line, error.column),
      rule: POWERSHELL_SYNTAX_RULE,
      severity: "error",
      message: `${target.label}: PowerShell cannot parse it: ${error.message} (${error.errorId})`,
      got: target.text.split("\n")[error.line - 1]?.trim() ?? "",
      hint: "fix the script: PowerShell runs no line of a script that does not parse",
    })),
  );
}

function targetsOf(doc: SourceDocument<Recipe>, cwd: string, read: ReadText): Target[] {
  const targets: Target[] = [];
  for (const { pointer, label, script } of recipeScripts(doc.value)) {
    if (script.shell !== "powershell") continue;
    if (script.run !== undefined) {
      const runPointer = `${pointer}/run`;
      targets.push({ text: script.run, label, at: (line, col) => ({ file: doc.file, ...doc.locateInString(runPointer, line, col), pointer: runPointer }) });
    } else if (script.file !== undefined) {
      const path = resolve(dirname(doc.path), script.file);
      const text = read(path);
      if (text !== undefined) targets.push({ text, label, at: (line, col) => ({ file: displayPath(cwd, path), line, col, pointer: `${pointer}/file` }) });
    }
  }
  return targets;
}
