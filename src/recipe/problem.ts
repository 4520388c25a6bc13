/**
 * A problem found in a recipe or app file. Every check (YAML parse, schema, named rules) reports
 * these; nothing throws on bad input. Printed as `file:line:col  rule-id  message (got: value)  hint`.
 */
export type Severity = "error" | "warning";

export interface Problem {
  /** File as given on the command line (or relative to the working directory). */
  readonly file: string;
  /** 1-based line; 0 when the problem concerns the whole file. */
  readonly line: number;
  /** 1-based column; 0 when the problem concerns the whole file. */
  readonly col: number;
  /** Stable rule id, e.g. `yaml-syntax`, `schema-unknown-key`, `pvs-no-domain-join`. */
  readonly rule: string;
  readonly severity: Severity;
  readonly message: string;
  /** The offending value, shown as `(got: ...)`. */
  readonly got?: unknown;
  /** How to fix it. */
  readonly hint?: string;
  /** JSON pointer of the offending node, e.g. `/target/pvs/vdiskName`. */
  readonly pointer?: string;
}

/** Orders problems by file, then line, then column, so output is stable. */
export function compareProblems(a: Problem, b: Problem): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.rule.localeCompare(b.rule);
}
