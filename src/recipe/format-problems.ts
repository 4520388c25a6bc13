/**
 * Problems as text (`file:line:col  rule-id  message (got: value)  hint`) and as data.
 */
import type { Problem } from "./problem.ts";

/** A `got` value longer than this is cut, so one line stays one line. */
const MAX_GOT_CHARS = 80;

/** One problem on one line; warnings say so before the message. */
export function formatProblem(problem: Problem): string {
  const got = problem.got === undefined ? "" : ` (got: ${formatValue(problem.got)})`;
  const severity = problem.severity === "warning" ? "warning: " : "";
  const hint = problem.hint ? `  ${oneLine(problem.hint)}` : "";
  return `${problem.file}:${problem.line}:${problem.col}  ${problem.rule}  ${severity}${oneLine(problem.message)}${got}${hint}`;
}

export interface ProblemCounts {
  readonly errors: number;
  readonly warnings: number;
}

export function countProblems(problems: readonly Problem[]): ProblemCounts {
  const errors = problems.filter((p) => p.severity === "error").length;
  return { errors, warnings: problems.length - errors };
}

/** "3 errors, 1 warning in 2 files". */
export function formatSummary(problems: readonly Problem[], files: number): string {
  const { errors, warnings } = countProblems(problems);
  return `${plural(errors, "error")}, ${plural(warnings, "warning")} in ${plural(files, "file")}`;
}

/** Every problem, then the summary: the text `rebake validate` prints. */
export function formatReport(problems: readonly Problem[], files: number): string {
  return [...problems.map(formatProblem), formatSummary(problems, files)].join("\n") + "\n";
}

/** The `--json` shape: `{ problems, files, errors, warnings }`. */
export function problemsAsJson(problems: readonly Problem[], files: number): string {
  return `${JSON.stringify({ problems, files, ...countProblems(problems) }, null, 2)}\n`;
}

/** JSON for values, so strings are quoted and control characters cannot reach the terminal. */
function formatValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_GOT_CHARS ? `${text.slice(0, MAX_GOT_CHARS - 1)}…` : text;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
