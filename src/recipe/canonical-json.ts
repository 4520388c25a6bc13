/**
 * Canonical JSON: one text per meaning. Object keys are sorted and `undefined` members dropped,
 * so two YAML files that differ only in key order, comments or formatting serialise alike and
 * hash alike. Arrays keep their order: in a recipe, order means something (install order).
 */

export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CanonicalJsonError";
  }
}

export function canonicalJson(value: unknown): string {
  const text = write(value);
  if (text === undefined) {
    // Rare: find where the bad value is only now, so the common path builds no path strings.
    const bad = findUnrepresentable(value, "$");
    throw new CanonicalJsonError(`${bad?.path ?? "$"} is ${bad?.what ?? "not JSON"}, which has no JSON form; use plain finite data`);
  }
  return text;
}

/** The text, or undefined when some value inside has no JSON form. */
function write(value: unknown): string | undefined {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : undefined;
    case "object": {
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          const item = value[i] === undefined ? "null" : write(value[i]);
          if (item === undefined) return undefined;
          out += i ? `,${item}` : item;
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = "{";
      let first = true;
      for (const key of keys) {
        const member = record[key];
        if (member === undefined) continue;
        const text = write(member);
        if (text === undefined) return undefined;
        out += `${first ? "" : ","}${JSON.stringify(key)}:${text}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return undefined;
  }
}

function findUnrepresentable(value: unknown, path: string): { path: string; what: string } | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? undefined : { path, what: String(value) };
  if (typeof value !== "object") return { path, what: `a ${typeof value}` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = value[i] === undefined ? undefined : findUnrepresentable(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, member] of Object.entries(value)) {
    const found = member === undefined ? undefined : findUnrepresentable(member, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}
