/** PowerShell single-quoted literals: nothing inside is expanded; a single quote is doubled. */
export function psQuote(value: string): string {
  // PowerShell also treats the typographic quotes U+2018..U+201B as single quotes (its parser
  // ends a '...' string at any of them), so each is doubled like an apostrophe.
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`;
}
