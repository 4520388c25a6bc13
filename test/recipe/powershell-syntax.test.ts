/**
 * `rebake validate`'s powershell-syntax check: PowerShell's own parser (real pwsh) over a recipe's
 * PowerShell steps, seal scripts and checks, each error at the recipe's or the .ps1's line:col;
 * one pwsh process per run, none without PowerShell, one warning when pwsh is missing.
 */
import { strict as assert } from "node:assert";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseDocument, type Scalar } from "yaml";
import { checkPowerShellSyntax } from "../../src/recipe/powershell-syntax.ts";
import { offsetInScalar } from "../../src/recipe/scalar-position.ts";
import { validatePaths } from "../../src/recipe/validate.ts";
import { createRecordingPowerShellParser } from "../../src/util/powershell-parser.ts";
import { pwshParser } from "../support/powershell.ts";
import { recipeDoc } from "./helpers/source-document.ts";
import { mcsRecipe, type Draft } from "./helpers/recipes.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/bad-powershell", import.meta.url));
let project: string;
before(async () => {
  // A copy outside the repository, so the repository's apps/ do not join the project.
  project = await mkdtemp(join(tmpdir(), "rebake-ps-"));
  await cp(FIXTURE, project, { recursive: true });
});
after(() => rm(project, { recursive: true, force: true }));

describe("powershell-syntax with PowerShell's parser (real pwsh)", () => {
  it("reports each parse error at the recipe's line:col inside run: |, in a quoted run, and in the .ps1 file; cmd steps and good scripts pass", async () => {
    const { problems } = await validatePaths(["recipes/powershell-syntax.yaml"], { cwd: project, powershell: pwshParser() });
    assert.deepEqual(
      problems.filter((p) => p.rule === "powershell-syntax").map((p) => `${p.file}:${p.line}:${p.col} ${p.severity} ${p.got} ${/\((\w+)\)$/.exec(p.message)?.[1]}`),
      [
        "recipes/powershell-syntax.yaml:26:18 error if ($true) { MissingEndCurlyBrace",
        "recipes/powershell-syntax.yaml:31:27 error Write-Output (1, MissingExpressionAfterToken",
        "recipes/powershell-syntax.yaml:31:27 error Write-Output (1, MissingEndParenthesisInExpression",
        "recipes/scripts/broken.ps1:3:27 error Remove-Item $path -Filter '*.log TerminatorExpectedAtEndOfString",
      ],
    );
  });
});

describe("powershell-syntax without starting pwsh needlessly", () => {
  const windows = (edit: (r: Draft) => void) => {
    const recipe = mcsRecipe();
    edit(recipe);
    return recipeDoc(recipe);
  };
  const withPowerShell = windows((r) => (r.checks = [{ name: "a", shell: "powershell", run: "Get-Date" }, { name: "b", shell: "powershell", run: "Get-Item x" }]));
  const withoutPowerShell = windows((r) => (r.checks = [{ name: "a", shell: "cmd", run: "ver" }]));

  it("parses every PowerShell text of every recipe in one batch", async () => {
    const parser = createRecordingPowerShellParser();
    await checkPowerShellSyntax([withPowerShell, withPowerShell], { cwd: "/", parser });
    assert.deepEqual(parser.batches, [["Get-Date", "Get-Item x", "Get-Date", "Get-Item x"]]);
  });

  it("does not call the parser when no recipe has PowerShell", async () => {
    const parser = createRecordingPowerShellParser();
    assert.deepEqual(await checkPowerShellSyntax([withoutPowerShell], { cwd: "/", parser }), []);
    assert.deepEqual(parser.batches, []);
  });

  it("without pwsh, says once (a warning, not an error) that it skipped the check", async () => {
    const problems = await checkPowerShellSyntax([withPowerShell, withPowerShell], { cwd: "/", parser: null });
    assert.deepEqual(problems.map((p) => `${p.rule} ${p.severity} ${p.line}:${p.col}`), ["powershell-syntax warning 0:0"]);
    assert.match(problems[0]!.message, /4 scripts was not checked: pwsh \(PowerShell 7\) is not installed/);
    assert.match(problems[0]!.hint!, /install-powershell\.sh/);
  });

  it("without pwsh and without PowerShell, says nothing", async () => {
    assert.deepEqual(await checkPowerShellSyntax([withoutPowerShell], { cwd: "/", parser: null }), []);
  });
});

describe("offsetInScalar: a line:col of a string value to its place in the YAML source", () => {
  const rows: readonly { name: string; yaml: string; line: number; col: number; expect: string | undefined }[] = [
    { name: "literal block: line and column inside the block", yaml: "run: |\n  one\n  two {x\n", line: 2, col: 5, expect: "{x\n" },
    { name: "literal block with a blank line", yaml: "run: |\n    a\n\n    b(\n", line: 3, col: 2, expect: "(\n" },
    { name: "plain one-line scalar", yaml: "run: Get-Item (1,\n", line: 1, col: 10, expect: "(1,\n" },
    { name: "double-quoted one-line scalar", yaml: 'run: "Get-Item (1,"\n', line: 1, col: 10, expect: '(1,"\n' },
    { name: "an escape before the column: only the start is sure", yaml: "run: 'it''s (1,'\n", line: 1, col: 6, expect: undefined },
    { name: "folded block: lines do not map one to one", yaml: "run: >\n  one\n  two\n", line: 1, col: 1, expect: undefined },
    { name: "explicit indentation indicator", yaml: "run: |2\n   x\n", line: 1, col: 1, expect: undefined },
    { name: "a line past the value", yaml: "run: |\n  one\n", line: 3, col: 1, expect: undefined },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const node = parseDocument(row.yaml).get("run", true) as Scalar;
      const offset = offsetInScalar(row.yaml, node, row.line, row.col);
      assert.equal(offset === undefined ? undefined : row.yaml.slice(offset), row.expect);
    });
  }
});
