/**
 * A failure is shown as `rebake <command>: <rule-id>  <words>`: rebake's error classes become rule
 * ids, never class names, and a defect of rebake itself is internal-error.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIo } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { ruleOf } from "../../src/cli/rule-of.ts";
import { GitBaseError } from "../../src/recipe/git-base.ts";
import { StackConfigError, StackNameError, StackNotFoundError } from "../../src/stacks/load-stack.ts";

describe("ruleOf", () => {
  const cases: ReadonlyArray<readonly [Error, string]> = [
    [new StackConfigError("stacks/Pulumi.dev.yaml", []), "stack-config"],
    [new StackNotFoundError("dev", "stacks/Pulumi.dev.yaml", []), "stack-not-found"],
    [new StackNameError("x/../y"), "stack-name"],
    [new GitBaseError("no such ref"), "git-base"],
    [new TypeError("x is undefined"), "internal-error"],
    [new RangeError("Maximum call stack size exceeded"), "internal-error"],
    [Object.assign(new Error("told"), { rule: "custom-rule" }), "custom-rule"],
  ];
  for (const [error, rule] of cases) it(`${error.constructor.name} is ${rule}`, () => assert.equal(ruleOf(error), rule));
});

describe("failures name a rule id, never a class", () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), "rebake-rules-"));
    await mkdir(join(cwd, "stacks"));
  });
  after(() => rm(cwd, { recursive: true, force: true }));

  const cases: ReadonlyArray<readonly [args: readonly string[], rule: string]> = [
    [["boot", "--stack", "x/../../devices/lyon"], "stack-name"],
    [["sync", "--stack", "../../etc/passwd"], "stack-name"],
    [["rollback", "--stack", ".."], "stack-name"],
    [["boot", "--stack", "nope"], "stack-not-found"],
    [["publish", "--stack", "nope"], "stack-not-found"],
  ];
  for (const [args, rule] of cases) {
    it(`rebake ${args.join(" ")}: ${rule}`, async () => {
      const err: string[] = [];
      const io: CliIo = { stdout: () => undefined, stderr: (t) => void err.push(t), cwd, env: {}, isTty: false, signal: new AbortController().signal };
      const code = await main(args, io);
      const text = err.join("");
      assert.equal(code, 1, text);
      assert.match(text, new RegExp(`^rebake ${args[0]}: ${rule}  `));
      assert.doesNotMatch(text, /[A-Z][a-z]+(?:[A-Z][a-z]+)*Error\b/);
    });
  }
});
