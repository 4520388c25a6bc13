/**
 * Every command reads its arguments through the one parser: an unknown flag, a flag without its
 * value and a stray argument are usage errors (exit 2) that print the command's usage line, in
 * words, without a class name or Node's parser text.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CliIo } from "../../src/cli/io.ts";
import { COMMAND_NAMES, main } from "../../src/cli/main.ts";

function capture(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), cwd: "/nonexistent", env: {}, isTty: false, signal: new AbortController().signal } };
}

/** For each command: a string option (to leave without its value) and whether it takes positionals. */
const COMMANDS: Readonly<Record<string, { readonly valueFlag?: string; readonly positionals: boolean }>> = {
  validate: { positionals: true },
  plan: { valueFlag: "--format", positionals: true },
  hash: { positionals: true },
  diff: { valueFlag: "--base", positionals: true },
  build: { valueFlag: "--out", positionals: true },
  verify: { valueFlag: "--driver", positionals: true },
  cache: { valueFlag: "--older-than", positionals: true },
  sync: { valueFlag: "--stack", positionals: false },
  devices: { valueFlag: "--stack", positionals: true },
  boot: { valueFlag: "--stack", positionals: false },
  publish: { valueFlag: "--stack", positionals: false },
  promote: { valueFlag: "--from", positionals: true },
  rollback: { valueFlag: "--stack", positionals: false },
  status: { positionals: false },
  version: { valueFlag: "--parent", positionals: true },
};

/** The mistakes the hostile corpus made, per command (issue 11) and for every command. */
const MISTAKES: ReadonlyArray<readonly [command: string, args: readonly string[], says: RegExp]> = [
  ["status", ["--verbose"], /unknown option --verbose/],
  ["boot", ["--stack"], /--stack needs a value/],
  ["promote", ["--force"], /unknown option --force/],
  ["rollback", ["--yes"], /unknown option --yes/],
  ["devices", ["validate", "--strict"], /unknown option --strict/],
  ["sync", ["--dry-run"], /unknown option --dry-run/],
  ["cache", ["ls", "--long"], /unknown option --long/],
  ["cache", ["prune", "--older-than", "-5d"], /--older-than needs a value, got the flag -5d \(write --older-than=-5d/],
  ["cache", ["prune", "--older-than=-5d"], /'-5d' is not a duration/],
  ["plan", ["--format", "--json"], /--format needs a value, got the flag --json/],
  ["validate", ["--json=yes"], /--json takes no value/],
  ["sync", ["--stack", "dev", "--concurrency", "1e9"], /--concurrency must be a whole number from 1 to 64, got '1e9'/],
  ["sync", ["--stack", "dev", "--concurrency", "2.5"], /--concurrency must be a whole number from 1 to 64/],
  ["sync", ["--stack", "dev", "--concurrency=-1"], /--concurrency must be a whole number from 1 to 64/],
  ...COMMAND_NAMES.flatMap((name) => {
    const spec = COMMANDS[name]!;
    return [
      [name, ["--no-such-flag"], /unknown option --no-such-flag; this command takes /] as const,
      ...(spec.valueFlag ? [[name, [spec.valueFlag], new RegExp(`${spec.valueFlag} needs a value`)] as const] : []),
      ...(spec.positionals ? [] : [[name, ["stray"], /unexpected argument "stray"/] as const]),
    ];
  }),
];

describe("wrong usage is exit 2 with the usage line, for every command", () => {
  it("the table covers every command", () => assert.deepEqual(Object.keys(COMMANDS).sort(), [...COMMAND_NAMES].sort()));
  for (const [command, args, says] of MISTAKES) {
    it(`rebake ${command} ${args.join(" ")}`, async () => {
      const { io, out, err } = capture();
      const code = await main([command, ...args], io);
      const text = err.join("");
      assert.equal(code, 2, text);
      assert.equal(out.join(""), "");
      const [first, ...rest] = text.split("\n");
      assert.match(first!, new RegExp(`^rebake ${command}: `));
      assert.match(first!, says);
      assert.match(rest.join("\n"), new RegExp(`^usage: rebake ${command}\\b`, "m"));
      assert.doesNotMatch(text, /TypeError|Error:|ERR_PARSE_ARGS|parseArgs/);
    });
  }
});
