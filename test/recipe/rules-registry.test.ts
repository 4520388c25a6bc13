/** The rule registry: stable ids, and problems that name file, position, rule, value and fix. */
import { strict as assert } from "node:assert";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { rules } from "../../src/recipe/rules/index.ts";
import { checkAll, loadYamlFile, ruleContext } from "./helpers/source-document.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/bad-rules", import.meta.url));
const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;

describe("rule registry", () => {
  it("has unique kebab-case ids with a description each", () => {
    const ids = rules.map((rule) => rule.id);
    assert.deepEqual(ids.filter((id) => !KEBAB.test(id)), []);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(rules.every((rule) => rule.description.length > 10));
  });

  it("registers every rule file under src/recipe/rules", async () => {
    const dir = fileURLToPath(new URL("../../src/recipe/rules", import.meta.url));
    const ruleFiles = [];
    for (const name of await readdir(dir)) {
      const module = (await import(join(dir, name))) as Record<string, unknown>;
      if (Object.values(module).some((value) => typeof value === "object" && value !== null && "check" in value && "id" in value)) ruleFiles.push(name.replace(/\.ts$/, ""));
    }
    assert.deepEqual(ruleFiles.sort(), rules.map((rule) => rule.id).sort());
  });

  it("reports every problem with a position, a message, the bad value and a hint, sorted", async () => {
    const names = [...(await readdir(FIXTURES)).filter((n) => n.endsWith(".yaml")), ...(await readdir(join(FIXTURES, "apps"))).map((n) => `apps/${n}`)];
    const docs = await Promise.all(names.map((name) => loadYamlFile(join(FIXTURES, name), FIXTURES)));
    const problems = checkAll(ruleContext(docs));
    assert.ok(problems.length >= 40, `only ${problems.length} problems`);
    for (const p of problems) {
      assert.ok(p.line > 0 && p.col > 0, `${p.file} ${p.rule} has no position`);
      assert.ok(p.message.length > 20 && p.hint !== undefined && p.got !== undefined, `${p.file} ${p.rule} lacks message, got or hint`);
      assert.ok(rules.some((rule) => rule.id === p.rule));
    }
    const used = new Set(problems.map((p) => p.rule));
    assert.deepEqual(rules.map((rule) => rule.id).filter((id) => !used.has(id)), [], "a rule no fixture exercises");
  });
});
