/**
 * schemas/*.schema.json are generated from src/recipe/model.ts; a type changed without
 * `npm run schemas` (or a schema edited by hand) fails here.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { generateSchema, schemaTargets } from "../src/recipe/schema-generation.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("committed schemas match the TypeScript model", () => {
  for (const target of schemaTargets) {
    it(`${target.file} is generated from ${target.type} in ${target.source}`, async () => {
      const committed = await readFile(`${root}${target.file}`, "utf8");
      assert.equal(generateSchema(root, target), committed, `${target.file} is out of date: run npm run schemas`);
    });
  }
});
