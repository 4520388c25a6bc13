/**
 * The rule id a failure is shown under. Errors that carry a `rule` keep it; rebake's own error
 * classes become their name in words (StackNotFoundError -> stack-not-found), so no class name
 * reaches the user; anything else is a defect of rebake, shown as internal-error.
 */
const BUILTIN = new Set(["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError", "AggregateError"]);

export function ruleOf(error: Error): string {
  const rule = (error as { rule?: unknown }).rule;
  if (typeof rule === "string" && rule !== "") return rule;
  const name = error.constructor?.name ?? error.name;
  if (!name || BUILTIN.has(name) || BUILTIN.has(error.name)) return "internal-error";
  return name
    .replace(/Error$/, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();
}
