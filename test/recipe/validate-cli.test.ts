import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { formatProblem, formatSummary } from "../../src/recipe/format-problems.ts";
import type { Problem } from "../../src/recipe/problem.ts";

const VALID = fileURLToPath(new URL("../fixtures/valid", import.meta.url));

interface Captured {
  readonly io: CliIo;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

function capture(cwd: string): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: (text) => void out.push(text), stderr: (text) => void err.push(text), cwd, env: {}, isTty: false,
      signal: new AbortController().signal,
    },
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}

let project: string;
before(async () => {
  project = await mkdtemp(join(tmpdir(), "rebake-cli-"));
  await cp(VALID, join(project, "good"), { recursive: true });
  await cp(VALID, join(project, "bad"), { recursive: true });
  const recipe = join(project, "bad/recipes/linux-pvs.yaml");
  const text = await readFile(recipe, "utf8");
  await writeFile(recipe, text.replace("  cpus: 2", "  cpu: 2").replace("  firmware: bios", "  firmware: efi"));
});
after(() => rm(project, { recursive: true, force: true }));

describe("rebake validate", () => {
  it("valid files: exit 0 and a summary", async () => {
    const c = capture(join(project, "good"));
    assert.equal(await main(["validate"], c.io), 0);
    assert.equal(c.stdout(), "0 errors, 0 warnings in 2 files\n");
    assert.equal(c.stderr(), "");
  });

  it("invalid files: exit 1, one line per problem, then the summary", async () => {
    const c = capture(project);
    assert.equal(await main(["validate", "bad/recipes"], c.io), 1);
    assert.equal(c.stdout(), [
      "bad/recipes/linux-pvs.yaml:16:3  schema-unknown-key  unknown key 'cpu' in hardware  did you mean 'cpus'?",
      `bad/recipes/linux-pvs.yaml:19:13  schema-enum  hardware.firmware must be one of: bios, uefi (got: "efi")  did you mean 'uefi'?`,
      "2 errors, 0 warnings in 2 files",
      "",
    ].join("\n"));
  });

  it("--json prints the problems as data", async () => {
    const c = capture(project);
    assert.equal(await main(["validate", "--json", "bad/recipes/linux-pvs.yaml"], c.io), 1);
    const report = JSON.parse(c.stdout()) as { problems: Problem[]; files: number; errors: number; warnings: number };
    assert.deepEqual({ ...report, problems: report.problems.map((p) => [p.rule, p.line, p.col, p.pointer]) }, {
      problems: [["schema-unknown-key", 16, 3, "/hardware/cpu"], ["schema-enum", 19, 13, "/hardware/firmware"]],
      files: 2, errors: 2, warnings: 0,
    });
  });

  it("a missing file is a problem (exit 1), not a usage error", async () => {
    const c = capture(project);
    assert.equal(await main(["validate", "nope.yaml"], c.io), 1);
    assert.match(c.stdout(), /^nope\.yaml:0:0  file-not-found  /);
  });

  const usage: ReadonlyArray<readonly [string, readonly string[], number]> = [
    ["an unknown flag is a usage error", ["validate", "--strict"], 2],
    ["--help prints the usage", ["validate", "--help"], 0],
  ];
  for (const [what, args, code] of usage) {
    it(`${what}: exit ${code}`, async () => {
      const c = capture(project);
      assert.equal(await main(args, c.io), code);
      assert.match(c.stdout() + c.stderr(), /usage: rebake validate \[paths\.\.\.\] \[--json\]/);
      assert.doesNotMatch(c.stderr(), /\n\s+at /);
    });
  }
});

describe("problem formatting", () => {
  const base: Problem = { file: "r.yaml", line: 3, col: 5, rule: "some-rule", severity: "error", message: "it is wrong" };
  const table: ReadonlyArray<readonly [what: string, problem: Problem, line: string]> = [
    ["a bare error", base, "r.yaml:3:5  some-rule  it is wrong"],
    ["with got and hint", { ...base, got: "x", hint: "fix it" }, `r.yaml:3:5  some-rule  it is wrong (got: "x")  fix it`],
    ["a warning is marked", { ...base, severity: "warning" }, "r.yaml:3:5  some-rule  warning: it is wrong"],
    ["numbers and null as JSON", { ...base, got: null }, "r.yaml:3:5  some-rule  it is wrong (got: null)"],
    ["control characters cannot reach the terminal", { ...base, got: "a\u001b[2Jb" }, `r.yaml:3:5  some-rule  it is wrong (got: "a\\u001b[2Jb")`],
    ["a long value is cut", { ...base, got: "y".repeat(200) }, `r.yaml:3:5  some-rule  it is wrong (got: "${"y".repeat(78)}…)`],
  ];
  for (const [what, problem, line] of table) it(what, () => assert.equal(formatProblem(problem), line));

  const summaries: ReadonlyArray<readonly [Problem[], number, string]> = [
    [[], 1, "0 errors, 0 warnings in 1 file"],
    [[base, base, base, { ...base, severity: "warning" }], 2, "3 errors, 1 warning in 2 files"],
  ];
  for (const [problems, files, text] of summaries) it(text, () => assert.equal(formatSummary(problems, files), text));
});
