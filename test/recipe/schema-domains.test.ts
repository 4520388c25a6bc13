/**
 * The generated schemas state every value's domain: each number is an integer with a documented
 * minimum and maximum, and each pattern has words for messages (no regex is ever shown).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PATTERN_WORDS } from "../../src/recipe/schema-validation.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));

/** Every sub-schema with its JSON pointer inside the schema file. */
function walk(node: unknown, pointer = ""): Array<{ pointer: string; schema: Record<string, unknown> }> {
  if (node === null || typeof node !== "object") return [];
  const here = Array.isArray(node) ? [] : [{ pointer, schema: node as Record<string, unknown> }];
  return [...here, ...Object.entries(node).flatMap(([key, child]) => walk(child, `${pointer}/${key}`))];
}

for (const file of ["schemas/recipe.schema.json", "schemas/app.schema.json"]) {
  describe(file, () => {
    const nodes = walk(JSON.parse(readFileSync(`${repo}${file}`, "utf8")));
    const numbers = nodes.filter(({ schema }) => schema.type === "number" || schema.type === "integer");
    it("has numbers to check", () => assert.ok(numbers.length > 0));
    for (const { pointer, schema } of numbers) {
      it(`${pointer} is an integer from a minimum to a maximum`, () => {
        assert.equal(schema.type, "integer");
        assert.equal(typeof schema.minimum, "number");
        assert.equal(typeof schema.maximum, "number");
        assert.ok((schema.minimum as number) < (schema.maximum as number));
      });
    }
    const SHAPES = new Set(["/definitions/SecretRef", "/definitions/Sha256", "/definitions/AppRef"]);
    for (const { pointer, schema } of nodes.filter(({ schema }) => typeof schema.pattern === "string")) {
      it(`${pointer} has its pattern in words`, () => {
        assert.ok(SHAPES.has(pointer) || PATTERN_WORDS[schema.pattern as string] !== undefined, `no words for ${String(schema.pattern)}`);
      });
    }
  });
}
