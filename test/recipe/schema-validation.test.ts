import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseSource } from "../../src/recipe/load.ts";
import { REDACTED, checkSchema, describePointer } from "../../src/recipe/schema-validation.ts";
import { editDistance, suggest } from "../../src/recipe/suggest.ts";
import type { Problem } from "../../src/recipe/problem.ts";

const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), "utf8");
const RECIPE = fixture("valid/recipes/linux-pvs.yaml");
const APP = fixture("valid/apps/hello-tool.yaml");

function check(text: string, kind: "recipe" | "app" = "recipe"): Problem[] {
  const loaded = parseSource(new TextEncoder().encode(text), { file: "x.yaml", path: "/p/x.yaml", kind });
  assert.ok(loaded.document, JSON.stringify(loaded.problems));
  return checkSchema(loaded.document);
}

function edit(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `${from} not in the base file`);
  return text.replace(from, to);
}

describe("schema check of the valid base files", () => {
  it("the recipe has no problem", () => assert.deepEqual(check(RECIPE), []));
  it("the app has no problem", () => assert.deepEqual(check(APP, "app"), []));
});

describe("schema problems say what is wrong and how to fix it", () => {
  interface Case {
    readonly what: string;
    readonly text: string;
    readonly kind?: "recipe" | "app";
    readonly expect: Partial<Problem>;
  }
  const cases: readonly Case[] = [
    {
      what: "an unknown key points at the key and suggests the closest allowed key",
      text: edit(RECIPE, "  diskGiB: 16", "  diskGb: 16"),
      expect: { rule: "schema-unknown-key", line: 18, col: 3, pointer: "/hardware/diskGb", hint: "did you mean 'diskGiB'?" },
    },
    {
      what: "an abbreviated key suggests the full one",
      text: edit(RECIPE, "  memoryMiB: 2048", "  memory: 2048"),
      expect: { rule: "schema-unknown-key", hint: "did you mean 'memoryMiB'?" },
    },
    {
      what: "a missing key names the key and points at its parent",
      text: edit(RECIPE, "  role: server\n", ""),
      expect: { rule: "schema-required", line: 25, col: 1, pointer: "/vda", message: "vda is missing the required key 'role'" },
    },
    {
      what: "a wrong type shows the value it got",
      text: edit(RECIPE, "  firmware: bios", "  firmware: bios\n  tpm: 1"),
      expect: { rule: "schema-type", message: "hardware.tpm must be true or false", got: 1 },
    },
    {
      what: "an enum lists the allowed values",
      text: edit(APP, "reboot: never", "reboot: Never"),
      kind: "app",
      expect: { rule: "schema-enum", message: "reboot must be one of: never, always, if-required", got: "Never", hint: "did you mean 'never'?" },
    },
    {
      what: "a pattern of a named shape is explained in words",
      text: edit(RECIPE, "  - hello-tool@1.0.0", "  - hello-tool 1.0.0"),
      expect: { rule: "schema-pattern", message: "apps[0] must be an app reference like name@version, e.g. 7zip@23.01" },
    },
    {
      what: "a literal secret is reported without its value",
      text: edit(RECIPE, "  hostname: LNXGOLD", "  hostname: LNXGOLD\n  productKey: W269N-WFGWX-YVC9B-4J6C9-T83GX"),
      expect: { rule: "secret-literal", got: REDACTED, hint: "put it in an environment variable and write env:NAME (or use pulumi:key for a stack secret)" },
    },
    {
      what: "a large wrong value is summarised",
      text: edit(RECIPE, "  version: 1.0.0", `  version: [${Array.from({ length: 60 }, (_, i) => `v${i}`).join(", ")}]`),
      expect: { rule: "schema-type", got: "a list of 60 items" },
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const problems = check(c.text, c.kind);
      assert.equal(problems.length, 1, JSON.stringify(problems, null, 2));
      const [problem] = problems;
      for (const [key, value] of Object.entries(c.expect)) assert.deepEqual(problem?.[key as keyof Problem], value, key);
    });
  }

  it("every independent mistake in a file is reported", () => {
    const text = edit(edit(edit(RECIPE, "  cpus: 2", "  cpus: -1"), "  kind: qemu-guest-agent", "  kind: qemu"), "  name: linux-pvs", "  nam: linux-pvs");
    assert.deepEqual(check(text).map((p) => p.rule).sort(), ["schema-enum", "schema-range", "schema-unknown-key"]);
  });

  it("the wrong target kind gives one problem, not one per union branch", () => {
    const problems = check(edit(RECIPE, "  kind: pvs", "  kind: vm"));
    assert.deepEqual(problems.map((p) => [p.rule, p.pointer, p.message]), [["schema-enum", "/target/kind", "target.kind must be one of: mcs, pvs"]]);
  });
});

describe("describePointer", () => {
  for (const [pointer, words] of [
    ["", "the top level"],
    ["/target/vdiskName", "target.vdiskName"],
    ["/drivers/0/source/url", "drivers[0].source.url"],
    ["/a~1b", "a/b"],
  ] as const) {
    it(`${JSON.stringify(pointer)} reads as ${words}`, () => assert.equal(describePointer(pointer), words));
  }
});

describe("suggest", () => {
  const distances: ReadonlyArray<readonly [string, string, number]> = [
    ["cpus", "cpus", 0],
    ["cpu", "cpus", 1],
    ["vdsikName", "vdiskName", 1],
    ["kitten", "sitting", 3],
    ["", "abc", 3],
  ];
  for (const [a, b, d] of distances) it(`${a} -> ${b} is ${d} edits`, () => assert.equal(editDistance(a, b), d));

  const guesses: ReadonlyArray<readonly [string, readonly string[], string | undefined]> = [
    ["cpu", ["cpus", "memoryMiB"], "cpus"],
    ["VdiskName", ["vdiskName", "kind"], "vdiskName"],
    ["memory", ["cpus", "memoryMiB"], "memoryMiB"],
    ["gpu", ["cpus", "tpm"], undefined],
    ["network", ["metadata", "os", "target"], undefined],
  ];
  for (const [word, candidates, expected] of guesses) {
    it(`${word} suggests ${expected ?? "nothing"}`, () => assert.equal(suggest(word, candidates), expected));
  }
});
