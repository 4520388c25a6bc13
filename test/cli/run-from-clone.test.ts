/**
 * The README's way to run rebake from a clone (`npx rebake <command>`) works: npm finds the
 * project's own bin, and the command's exit code and output come through.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));

describe("rebake run from a clone as the README says (npx rebake)", () => {
  const cases = [
    { args: ["--help"], code: 0, stdout: /^usage: rebake <command>/m },
    { args: ["status", "--verbose"], code: 2, stderr: /^rebake status: unknown option --verbose[^\n]*\nusage: rebake status/m },
  ] as const;
  for (const c of cases) {
    it(`npx rebake ${c.args.join(" ")} exits ${c.code}`, () => {
      // Offline: the bin is the clone's own, nothing may be fetched.
      const result = spawnSync("npx", ["rebake", ...c.args], { cwd: repo, encoding: "utf8", timeout: 120_000, env: { ...process.env, npm_config_offline: "true", npm_config_update_notifier: "false" } });
      assert.equal(result.status, c.code, result.stderr);
      if ("stdout" in c) assert.match(result.stdout, c.stdout);
      if ("stderr" in c) assert.match(result.stderr, c.stderr);
    });
  }
});
