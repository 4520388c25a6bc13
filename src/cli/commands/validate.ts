/**
 * `rebake validate [paths...] [--json]`: schema and named rules over recipes and apps.
 * Exit 0 when there is no error (warnings allowed), 1 when there is, 2 for wrong usage.
 */
import { parseCommandArgs } from "../args.ts";
import { EXIT, type CliIo } from "../io.ts";
import { countProblems, formatReport, problemsAsJson } from "../../recipe/format-problems.ts";
import { validatePaths } from "../../recipe/validate.ts";

export const HELP = `usage: rebake validate [paths...] [--json]

Checks recipes and apps: YAML syntax, the JSON Schemas in schemas/, and the named rules.
Directories are searched for .yaml and .yml files; with no paths, recipes/ and apps/.
A recipe is checked together with every app of its project (the nearest directory with apps/).
PowerShell steps, seal scripts and checks (inline or .ps1) are parsed by PowerShell's own parser
when pwsh (PowerShell 7) is installed (rule powershell-syntax); without it a warning says so.

Each problem prints as  file:line:col  rule-id  message (got: value)  hint

options:
  --json   print { problems, files, errors, warnings } instead of text
  --help   show this help

exit codes: 0 valid (warnings allowed), 1 invalid, 2 wrong usage
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {});
  if (parsed.values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const result = await validatePaths(parsed.positionals, { cwd: io.cwd });
  const files = result.files.length;
  io.stdout(parsed.values.json ? problemsAsJson(result.problems, files) : formatReport(result.problems, files));
  return countProblems(result.problems).errors > 0 ? EXIT.failed : EXIT.ok;
}
