/**
 * Reads the PVS cmdlet calls out of a generated PowerShell script, in order, with their
 * parameters: what a snapshot test asserts beside the text (which cmdlets run, in which order, with
 * which values). A test-side reader of single-quoted literals and bare values, independent of the
 * product's quoting code.
 */
export interface PvsCall {
  readonly cmdlet: string;
  /** `-Name value` gives Name -> value (quotes removed, '' unescaped); a switch gives Name -> true. */
  readonly params: Readonly<Record<string, string | true>>;
}

const TOKEN = /\s*(?:'((?:[^']|'')*)'|(-[A-Za-z_0-9]+)|([^\s'|;)}]+)|([|;)}]|$))/y;

export function pvsCalls(script: string): PvsCall[] {
  const calls: PvsCall[] = [];
  for (const line of script.split(/\r?\n/)) {
    for (const found of line.matchAll(/(?<![\w-])([A-Z][a-z]+-Pvs[A-Za-z]+)/g)) {
      const params: Record<string, string | true> = {};
      let pending: string | undefined;
      TOKEN.lastIndex = found.index + found[0].length;
      for (let m = TOKEN.exec(line); m && m[4] === undefined; m = TOKEN.exec(line)) {
        if (m[2] !== undefined) {
          if (pending) params[pending] = true;
          pending = m[2].slice(1);
        } else if (pending) {
          params[pending] = m[1] !== undefined ? m[1].replace(/''/g, "'") : m[3]!;
          pending = undefined;
        }
      }
      if (pending) params[pending] = true;
      calls.push({ cmdlet: found[1]!, params });
    }
  }
  return calls;
}
