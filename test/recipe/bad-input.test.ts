/**
 * Every broken input under test/fixtures/bad-yaml and test/fixtures/bad-schema reports exactly the
 * problems listed here, rule id and line:col, and nothing crashes. Each schema fixture is the valid
 * base (test/fixtures/valid) with one mistake, so one mistake must give one problem.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { validatePaths } from "../../src/recipe/validate.ts";
import { formatProblem } from "../../src/recipe/format-problems.ts";
import { run } from "../../src/cli/commands/validate.ts";
import type { CliIo } from "../../src/cli/io.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const fixtures = join(repo, "test/fixtures");

type Expected = readonly [rule: string, line: number, col: number];
interface Case {
  readonly file: string;
  readonly expect: readonly Expected[];
  /** Text the printed problems must contain, e.g. the "did you mean". */
  readonly says?: string;
  /** Text the printed problems must NOT contain: literal secrets are never echoed. */
  readonly never?: string;
}

const cases: readonly Case[] = [
  // YAML that does not parse, or parses into something that is not one mapping.
  { file: "bad-yaml/unclosed-flow-list.yaml", expect: [["yaml-syntax", 5, 11]], says: "this [ list is never closed" },
  { file: "bad-yaml/unterminated-quote.yaml", expect: [["yaml-syntax", 3, 9]], says: "quoted text is never closed" },
  { file: "bad-yaml/compact-nested-mapping.yaml", expect: [["yaml-syntax", 3, 9]] },
  { file: "bad-yaml/missing-colon.yaml", expect: [["yaml-syntax", 3, 3]] },
  { file: "bad-yaml/bad-indentation.yaml", expect: [["yaml-syntax", 3, 9]], says: "indented one level under its parent" },
  { file: "bad-yaml/tab-indent.yaml", expect: [["yaml-tab-indent", 3, 1], ["yaml-tab-indent", 4, 1]], says: "indent with spaces" },
  { file: "bad-yaml/tab-indent-nested.yaml", expect: [["yaml-tab-indent", 7, 3]] },
  { file: "bad-yaml/duplicate-key.yaml", expect: [["yaml-duplicate-key", 5, 3]], says: '(got: "name")' },
  { file: "bad-yaml/duplicate-top-level-key.yaml", expect: [["yaml-duplicate-key", 7, 1]], says: '(got: "hardware")' },
  { file: "bad-yaml/alias-bomb.yaml", expect: [["yaml-alias-limit", 5, 8]], says: '(got: "*c")' },
  { file: "bad-yaml/unknown-alias.yaml", expect: [["yaml-unknown-alias", 3, 9]] },
  { file: "bad-yaml/deep-flow-nesting.yaml", expect: [["yaml-too-deep", 2, 74]] },
  { file: "bad-yaml/deep-block-nesting.yaml", expect: [["yaml-too-deep", 66, 129]] },
  { file: "bad-yaml/non-utf8-latin1.yaml", expect: [["encoding", 4, 19]], says: "0xe9" },
  { file: "bad-yaml/non-utf8-after-multibyte.yaml", expect: [["encoding", 3, 19]], says: "0xff" },
  { file: "bad-yaml/utf16.yaml", expect: [["encoding", 1, 1]], says: "UTF-16" },
  { file: "bad-yaml/empty.yaml", expect: [["yaml-empty", 0, 0]] },
  { file: "bad-yaml/comments-only.yaml", expect: [["yaml-empty", 0, 0]] },
  { file: "bad-yaml/top-level-list.yaml", expect: [["yaml-not-mapping", 2, 1]], says: "is a list" },
  { file: "bad-yaml/top-level-scalar.yaml", expect: [["yaml-not-mapping", 2, 1]] },
  { file: "bad-yaml/multiple-documents.yaml", expect: [["yaml-multiple-documents", 5, 1]] },

  // Recipes that parse but break the schema.
  { file: "bad-schema/unknown-key-typo.yaml", expect: [["schema-unknown-key", 16, 3]], says: "did you mean 'cpus'?" },
  { file: "bad-schema/typo-required-key.yaml", expect: [["schema-unknown-key", 33, 3]], says: "did you mean 'vdiskName'?" },
  { file: "bad-schema/unknown-key-no-suggestion.yaml", expect: [["schema-unknown-key", 20, 3]], says: "allowed keys: cpus, memoryMiB" },
  { file: "bad-schema/unknown-top-level-key.yaml", expect: [["schema-unknown-key", 20, 1]], says: "unknown key 'network'" },
  { file: "bad-schema/missing-target.yaml", expect: [["schema-required", 2, 1]], says: "required key 'target'" },
  { file: "bad-schema/missing-vdisk-name.yaml", expect: [["schema-required", 31, 1]], says: "required key 'vdiskName'" },
  { file: "bad-schema/missing-target-kind.yaml", expect: [["schema-required", 31, 1]], says: "one of mcs, pvs" },
  { file: "bad-schema/driver-missing-source.yaml", expect: [["schema-required", 21, 5]], says: "drivers[0]" },
  { file: "bad-schema/wrong-type-cpus.yaml", expect: [["schema-type", 16, 9]], says: '(got: "two")' },
  { file: "bad-schema/version-as-number.yaml", expect: [["schema-type", 22, 12]], says: "quote the value" },
  { file: "bad-schema/wrong-type-apps.yaml", expect: [["schema-type", 23, 7]], says: "must be a list" },
  { file: "bad-schema/empty-os.yaml", expect: [["schema-type", 7, 1]], says: "os is empty" },
  { file: "bad-schema/metadata-as-list.yaml", expect: [["schema-type", 3, 3]] },
  { file: "bad-schema/mcs-shutdown-yes.yaml", expect: [["schema-type", 33, 13]], says: "true or false" },
  { file: "bad-schema/bad-enum-firmware.yaml", expect: [["schema-enum", 19, 13]], says: "did you mean 'uefi'?" },
  { file: "bad-schema/bad-target-kind.yaml", expect: [["schema-enum", 32, 9]], says: "must be one of: mcs, pvs" },
  { file: "bad-schema/bad-check-shell.yaml", expect: [["schema-enum", 47, 12]] },
  { file: "bad-schema/bad-step-phase.yaml", expect: [["schema-enum", 53, 12]], says: "did you mean 'apps'?" },
  { file: "bad-schema/bad-sha256.yaml", expect: [["schema-pattern", 11, 13]], says: "64 lowercase hex characters" },
  { file: "bad-schema/bad-recipe-name.yaml", expect: [["schema-pattern", 3, 9]] },
  { file: "bad-schema/bad-app-ref.yaml", expect: [["schema-pattern", 24, 5]], says: "name@version" },
  { file: "bad-schema/bad-url.yaml", expect: [["schema-format", 10, 10]] },
  { file: "bad-schema/cpus-zero.yaml", expect: [["schema-range", 16, 9]], says: "a whole number from 1 to 128" },
  { file: "bad-schema/memory-too-small.yaml", expect: [["schema-range", 17, 14]] },
  { file: "bad-schema/short-unpinned-reason.yaml", expect: [["schema-range", 12, 15]] },
  { file: "bad-schema/literal-product-key.yaml", expect: [["secret-literal", 12, 15]], says: '(got: "<redacted>")', never: "NPPR9" },
  { file: "bad-schema/literal-domain-password.yaml", expect: [["secret-literal", 37, 15]], says: "env:NAME", never: "Winter2024" },
  { file: "bad-schema/numeric-secret.yaml", expect: [["secret-literal", 37, 15]], never: "12345678" },
  { file: "bad-schema/two-mistakes.yaml", expect: [["schema-unknown-key", 16, 3], ["schema-enum", 19, 13]] },

  // Apps that parse but break the schema.
  { file: "bad-schema/app-missing-source.yaml", expect: [["schema-required", 2, 1]] },
  { file: "bad-schema/app-unknown-key-typo.yaml", expect: [["schema-unknown-key", 12, 1]], says: "did you mean 'successCodes'?" },
  { file: "bad-schema/app-success-code-string.yaml", expect: [["schema-type", 12, 19]] },
  { file: "bad-schema/app-bad-reboot.yaml", expect: [["schema-enum", 13, 9]] },
  { file: "bad-schema/app-install-missing-shell.yaml", expect: [["schema-required", 9, 3]] },
  { file: "bad-schema/app-bad-dependency-ref.yaml", expect: [["schema-pattern", 17, 5]] },
];

describe("bad input reports exact rule ids and positions", () => {
  for (const c of cases) {
    it(`${c.file}: ${c.expect.map(([rule, line, col]) => `${rule} at ${line}:${col}`).join(", ")}`, async () => {
      const result = await validatePaths([join(fixtures, c.file)], { cwd: repo });
      const file = `test/fixtures/${c.file}`;
      assert.deepEqual(
        result.problems.map((p) => [p.file, p.rule, p.line, p.col]),
        c.expect.map(([rule, line, col]) => [file, rule, line, col]),
      );
      assert.ok(result.problems.every((p) => p.severity === "error"));
      const printed = result.problems.map(formatProblem).join("\n");
      if (c.says) assert.ok(printed.includes(c.says), `expected ${JSON.stringify(c.says)} in:\n${printed}`);
      if (c.never) assert.ok(!printed.includes(c.never) && !JSON.stringify(result.problems).includes(c.never), "secret echoed");
    });
  }
});

describe("a file too large to be a recipe", () => {
  let dir: string;
  const TEN_MB = 10 * 1000 * 1000;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rebake-large-"));
    const handle = await open(join(dir, "huge.yaml"), "w");
    const line = "key: value\n".repeat(1000);
    for (let written = 0; written < TEN_MB; written += line.length) await handle.write(line);
    // A byte that is not UTF-8: a loader that read the file would report an encoding problem too.
    await handle.write(Buffer.from([0xff]));
    await handle.close();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("is rejected as file-too-large at 0:0 without being decoded or parsed", async () => {
    const result = await validatePaths(["huge.yaml"], { cwd: dir });
    assert.deepEqual(result.problems.map((p) => [p.file, p.rule, p.line, p.col]), [["huge.yaml", "file-too-large", 0, 0]]);
  });
});

describe("rebake validate over the whole corpus", () => {
  it("prints every problem, exits 1, and never prints a stack trace", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), cwd: repo, env: {}, isTty: false,
      signal: new AbortController().signal,
    };
    const code = await run(["test/fixtures/bad-yaml", "test/fixtures/bad-schema"], io);
    const text = out.join("");
    assert.equal(code, 1);
    assert.equal(err.join(""), "");
    assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+\)?\n/);
    const expected = cases.reduce((n, c) => n + c.expect.length, 0);
    assert.match(text, new RegExp(`^${expected} errors, 0 warnings in \\d+ files$`, "m"));
  });
});
