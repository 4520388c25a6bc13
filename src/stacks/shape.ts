/**
 * A small declarative shape checker for stack files: every problem is collected (never just the
 * first), each with the JSON pointer of the node, the bad value and how to fix it. Positions are
 * filled in by the caller, which owns the YAML document.
 */
import { suggest } from "../recipe/suggest.ts";

export interface ShapeProblem {
  readonly pointer: string;
  /** Whether the problem is about the mapping key (unknown key) rather than the value. */
  readonly part: "key" | "value";
  readonly rule: string;
  readonly message: string;
  readonly got?: unknown;
  readonly hint?: string;
}

/** A form a string must have, and the same in words: messages never show the expression. */
export interface Constraint {
  readonly pattern: RegExp;
  /** Completes "<key> must be ...", e.g. "a host name: letters, digits, dots and hyphens". */
  readonly words: string;
}

export type Shape =
  | { readonly type: "string"; readonly pattern?: Constraint; readonly example: string; readonly values?: readonly string[] }
  | { readonly type: "integer"; readonly min: number; readonly max: number }
  | { readonly type: "boolean" }
  | { readonly type: "object"; readonly fields: Readonly<Record<string, Field>> }
  | { readonly type: "list"; readonly of: Shape; readonly minItems: number }
  /** An object whose `kind` picks the fields. */
  | { readonly type: "variant"; readonly variants: Readonly<Record<string, Readonly<Record<string, Field>>>> };

export interface Field {
  readonly shape: Shape;
  readonly required?: boolean;
}

export const string = (example: string, pattern?: Constraint): Shape => ({ type: "string", example, ...(pattern ? { pattern } : {}) });
export const oneOf = (...values: string[]): Shape => ({ type: "string", example: values[0] ?? "", values });
export const integer = (min: number, max: number): Shape => ({ type: "integer", min, max });
export const boolean: Shape = { type: "boolean" };
export const object = (fields: Record<string, Field>): Shape => ({ type: "object", fields });
export const list = (of: Shape, minItems = 1): Shape => ({ type: "list", of, minItems });
export const variant = (variants: Record<string, Record<string, Field>>): Shape => ({ type: "variant", variants });
export const required = (shape: Shape): Field => ({ shape, required: true });
export const optional = (shape: Shape): Field => ({ shape });

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "a mapping" : `a ${typeof value}`;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Checks `value` against `shape`; `pointer` names where it sits. */
export function checkShape(value: unknown, shape: Shape, pointer: string, keyName: string): ShapeProblem[] {
  switch (shape.type) {
    case "string": {
      if (typeof value !== "string") {
        return [{ pointer, part: "value", rule: "stack-type", message: `${keyName} must be a string, not ${describe(value)}`, got: value, hint: `write it as text, e.g. ${keyName}: ${JSON.stringify(shape.example)}` }];
      }
      if (shape.values && !shape.values.includes(value)) {
        const near = suggest(value, shape.values);
        return [{ pointer, part: "value", rule: "stack-enum", message: `${keyName} must be one of ${shape.values.join(", ")}`, got: value, hint: near ? `did you mean '${near}'?` : `use one of ${shape.values.join(", ")}` }];
      }
      if (shape.pattern && !shape.pattern.pattern.test(value)) {
        return [{ pointer, part: "value", rule: "stack-format", message: `${keyName} must be ${shape.pattern.words}`, got: value, hint: `e.g. ${shape.example}` }];
      }
      return [];
    }
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value) || value < shape.min || value > shape.max) {
        return [{ pointer, part: "value", rule: "stack-type", message: `${keyName} must be a whole number from ${shape.min} to ${shape.max}`, got: value, hint: `e.g. ${keyName}: ${shape.min}` }];
      }
      return [];
    case "boolean":
      return typeof value === "boolean" ? [] : [{ pointer, part: "value", rule: "stack-type", message: `${keyName} must be true or false`, got: value, hint: `write ${keyName}: true or ${keyName}: false (unquoted)` }];
    case "list": {
      if (!Array.isArray(value)) {
        return [{ pointer, part: "value", rule: "stack-type", message: `${keyName} must be a list, not ${describe(value)}`, got: value, hint: `write each entry on its own line starting with '- '` }];
      }
      if (value.length < shape.minItems) {
        return [{ pointer, part: "value", rule: "stack-required", message: `${keyName} needs at least ${shape.minItems} entr${shape.minItems === 1 ? "y" : "ies"}`, got: value, hint: `add an entry under ${keyName}` }];
      }
      return value.flatMap((item, index) => checkShape(item, shape.of, `${pointer}/${index}`, `${keyName}[${index}]`));
    }
    case "object":
      return checkFields(value, shape.fields, pointer, keyName);
    case "variant": {
      const kinds = Object.keys(shape.variants);
      if (!isMapping(value)) return checkFields(value, {}, pointer, keyName);
      const kind = value.kind;
      const fields = typeof kind === "string" ? shape.variants[kind] : undefined;
      if (!fields) {
        const near = typeof kind === "string" ? suggest(kind, kinds) : undefined;
        return [{
          pointer: kind === undefined ? pointer : `${pointer}/kind`,
          part: "value",
          rule: kind === undefined ? "stack-required" : "stack-enum",
          message: kind === undefined ? `${keyName} needs a kind: ${kinds.join(", ")}` : `${keyName}.kind must be one of ${kinds.join(", ")}`,
          got: kind,
          hint: near ? `did you mean '${near}'?` : `add kind: ${kinds[0]}`,
        }];
      }
      return checkFields(value, { kind: required(oneOf(...kinds)), ...fields }, pointer, keyName);
    }
  }
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkFields(value: unknown, fields: Readonly<Record<string, Field>>, pointer: string, keyName: string): ShapeProblem[] {
  if (!isMapping(value)) {
    return [{ pointer, part: "value", rule: "stack-type", message: `${keyName} must be a mapping of keys to values, not ${describe(value)}`, got: value, hint: `indent its keys below ${keyName}:` }];
  }
  const problems: ShapeProblem[] = [];
  const known = Object.keys(fields);
  for (const key of Object.keys(value)) {
    if (fields[key]) continue;
    const near = suggest(key, known);
    problems.push({
      pointer: `${pointer}/${escapePointer(key)}`,
      part: "key",
      rule: "stack-unknown-key",
      message: `unknown key ${keyName}.${key}`,
      got: key,
      hint: near ? `did you mean '${near}'?` : `known keys: ${known.join(", ")}`,
    });
  }
  for (const [key, field] of Object.entries(fields)) {
    const child = `${pointer}/${escapePointer(key)}`;
    if (value[key] === undefined || value[key] === null) {
      if (field.required && !problems.some((p) => p.rule === "stack-unknown-key" && p.hint === `did you mean '${key}'?`)) {
        problems.push({ pointer, part: "value", rule: "stack-required", message: `${keyName}.${key} is required`, hint: `add ${key}: under ${keyName}` });
      }
      continue;
    }
    problems.push(...checkShape(value[key], field.shape, child, `${keyName}.${key}`));
  }
  return problems;
}
