/**
 * POSIX sh quoting, the one copy: a single-quoted word in which nothing is expanded; a single
 * quote ends the word, is escaped and a new word begins. Safe for any value, secrets included.
 */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
