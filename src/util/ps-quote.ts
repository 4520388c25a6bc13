/**
 * PowerShell quoting, the one copy: a single-quoted (verbatim) string in which nothing is
 * expanded; a single quote is doubled. PowerShell also ends a string at the typographic quotes
 * U+2018..U+201B, so those are doubled too: a secret containing one cannot end the string early.
 */
export function psQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`;
}
