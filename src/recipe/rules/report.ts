/**
 * Builds problems that point at a node of a loaded file, so every rule reports the same way:
 * file, line:col of the node, rule id, message, the bad value and the fix.
 */
import type { Rule, SourceDocument } from "../document.ts";
import type { App, Recipe } from "../model.ts";
import type { Problem, Severity } from "../problem.ts";

export interface Finding {
  /** JSON pointer of the offending node. */
  readonly pointer: string;
  /** Point at the mapping key (e.g. a block that must not be there) instead of its value. */
  readonly part?: "key" | "value";
  /** The rule broken and why. */
  readonly message: string;
  readonly got?: unknown;
  readonly hint?: string;
  /** Overrides the rule's severity for this problem. */
  readonly severity?: Severity;
}

export function problemAt(rule: Pick<Rule, "id" | "severity">, doc: SourceDocument<unknown>, finding: Finding): Problem {
  const { line, col } = doc.locate(finding.pointer, finding.part ?? "value");
  return {
    file: doc.file,
    line,
    col,
    rule: rule.id,
    severity: finding.severity ?? rule.severity,
    message: finding.message,
    ...(finding.got === undefined ? {} : { got: finding.got }),
    ...(finding.hint === undefined ? {} : { hint: finding.hint }),
    pointer: finding.pointer,
  };
}

/** A rule that looks at one recipe at a time. */
export function perRecipe(
  rule: Pick<Rule, "id" | "severity" | "description">,
  findings: (doc: SourceDocument<Recipe>) => Iterable<Finding>,
): Rule {
  return {
    ...rule,
    check: (context) => context.recipes.flatMap((doc) => [...findings(doc)].map((f) => problemAt(rule, doc, f))),
  };
}

/** A rule that looks at one app definition at a time. */
export function perApp(
  rule: Pick<Rule, "id" | "severity" | "description">,
  findings: (doc: SourceDocument<App>) => Iterable<Finding>,
): Rule {
  return {
    ...rule,
    check: (context) => context.apps.flatMap((doc) => [...findings(doc)].map((f) => problemAt(rule, doc, f))),
  };
}
