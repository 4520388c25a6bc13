import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { manifestSchemaErrors } from "../../src/manifest/validate-manifest.ts";
import { generateSchema, schemaTargets } from "../../src/recipe/schema-generation.ts";
import { build } from "../../src/runner/build.ts";
import { createFakes, createFixture } from "../runner/helpers/build-fixture.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("the committed manifest schema is the one generated from src/manifest/model.ts", async () => {
  const target = schemaTargets.find((t) => t.file === "schemas/build-manifest.schema.json");
  assert.ok(target, "the manifest schema is a schema target");
  assert.equal(await readFile(`${root}${target.file}`, "utf8"), generateSchema(root, target), "run npm run schemas");
});

test("manifests of a fresh build and of a cached rebuild validate against the schema", async () => {
  const fixture = await createFixture();
  try {
    const first = await build(fixture.request(fixture.plan()), fixture.deps(createFakes()));
    assert.deepEqual(manifestSchemaErrors(first.manifest), []);
    const second = await build(fixture.request(fixture.plan({ lastApp: "install-b --v2" })), fixture.deps(createFakes()));
    assert.deepEqual(manifestSchemaErrors(JSON.parse(await readFile(second.manifestPath, "utf8"))), []);
  } finally {
    await fixture.dispose();
  }
});

const broken: readonly { name: string; change: (m: Record<string, unknown>) => void; error: RegExp }[] = [
  { name: "a missing build id", change: (m) => delete m.buildId, error: /must have required property 'buildId'/ },
  { name: "a sha256 that is not hex", change: (m) => ((m.recipe as Record<string, unknown>).hash = "xyz"), error: /\/recipe\/hash: must match pattern/ },
  { name: "an unknown key", change: (m) => (m.extra = 1), error: /must NOT have additional properties/ },
];

for (const c of broken) {
  test(`the schema rejects ${c.name}`, async () => {
    const fixture = await createFixture();
    try {
      const { manifest } = await build(fixture.request(fixture.plan()), fixture.deps(createFakes()));
      const copy = structuredClone(manifest) as unknown as Record<string, unknown>;
      c.change(copy);
      assert.match(manifestSchemaErrors(copy).join("\n"), c.error);
    } finally {
      await fixture.dispose();
    }
  });
}
