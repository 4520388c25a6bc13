import { test } from "node:test";
import assert from "node:assert/strict";
import { pulumiKeys, readPulumiSecrets } from "../../src/stacks/pulumi-secrets.ts";
import { resolveSecret } from "../../src/recipe/secrets.ts";
import { createRecordingExec } from "../../src/util/exec.ts";

test("only pulumi: references are read, each once", () => {
  assert.deepEqual(pulumiKeys(["pulumi:vcPassword", "env:XO_TOKEN", "svc-rebake", undefined, "pulumi:vcPassword", "pulumi:guestPassword"]), ["vcPassword", "guestPassword"]);
});

test("values come from `pulumi config get` of the stack; a key it lacks says how to set it", async () => {
  const exec = createRecordingExec((_command, args) => (args[2] === "vcPassword" ? { stdout: "s3cret with spaces\n" } : { exitCode: 1, stderr: "error: configuration key 'rebake:guestPassword' not found" }));
  const pulumi = await readPulumiSecrets(["vcPassword", "guestPassword"], { stack: "dev", cwd: "/repo", exec });
  assert.deepEqual(exec.calls.map((c) => [c.command, ...c.args, c.options?.cwd]), [
    ["pulumi", "config", "get", "vcPassword", "--stack", "dev", "/repo"],
    ["pulumi", "config", "get", "guestPassword", "--stack", "dev", "/repo"],
  ]);
  assert.equal(resolveSecret("pulumi:vcPassword", { env: {}, pulumi }), "s3cret with spaces");
  assert.throws(() => resolveSecret("pulumi:guestPassword", { env: {}, pulumi }), /run `pulumi config set guestPassword --secret` for the stack/);
});
