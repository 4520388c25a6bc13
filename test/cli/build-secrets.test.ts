/**
 * `pulumi:` secrets in recipes: `rebake build --stack S` reads the recipe's keys from the stack
 * once, before anything runs, and checks every reference the recipe uses, reporting all that are
 * missing at once, before any VM exists.
 *
 * The Pulumi CLI cannot run here; its fakes keep the contract of `pulumi config get <key> --stack
 * <stack>` (https://www.pulumi.com/docs/iac/cli/commands/pulumi_config_get/): it prints the value
 * and a newline and exits 0, and exits non-zero when the stack does not set the key.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { recipeSecretSources } from "../../src/cli/wiring.ts";
import { resolveSecret, SecretsMissingError } from "../../src/recipe/secrets.ts";
import { createRecordingExec } from "../../src/util/exec.ts";
import { runCliJson } from "../support/cli-child.ts";

const STACK_VALUES: Readonly<Record<string, string>> = { "win:productKey": "KEY-VALUE-1111", joinPassword: "join \"&calc& %PATH%" };

/** `pulumi config get` answering from STACK_VALUES (see the contract above). */
const pulumiCli = () =>
  createRecordingExec((command, args) => {
    const value = command === "pulumi" && args[0] === "config" && args[1] === "get" ? STACK_VALUES[args[2]!] : undefined;
    return value === undefined ? { exitCode: 255, stderr: `error: configuration key '${args[2]}' not found for stack '${args[4]}'` } : { stdout: `${value}\n` };
  });

describe("recipeSecretSources", () => {
  it("reads each pulumi: key once from the stack and resolves every reference", async () => {
    const exec = pulumiCli();
    const refs = ["pulumi:win:productKey", "env:JOIN_USER", "pulumi:joinPassword"];
    const sources = await recipeSecretSources(refs, { stack: "lab", env: { JOIN_USER: "svc" }, cwd: "/project", exec });
    assert.deepEqual(exec.calls.map((c) => [c.command, ...c.args, c.options?.cwd]), [
      ["pulumi", "config", "get", "win:productKey", "--stack", "lab", "/project"],
      ["pulumi", "config", "get", "joinPassword", "--stack", "lab", "/project"],
    ]);
    assert.equal(resolveSecret("pulumi:joinPassword", sources), STACK_VALUES.joinPassword);
    assert.equal(resolveSecret("env:JOIN_USER", sources), "svc");
  });

  it("names every missing reference at once, with how to provide it, never a value", async () => {
    const refs = ["pulumi:win:productKey", "pulumi:absentKey", "env:ABSENT_VAR", "pulumi:otherKey"];
    await assert.rejects(recipeSecretSources(refs, { stack: "lab", env: {}, cwd: "/project", exec: pulumiCli() }), (error: Error) => {
      assert.ok(error instanceof SecretsMissingError);
      assert.equal(error.rule, "secret-not-found");
      assert.deepEqual(error.errors.map((e) => e.ref), ["pulumi:absentKey", "env:ABSENT_VAR", "pulumi:otherKey"]);
      assert.match(error.message, /pulumi config set absentKey --secret/);
      assert.match(error.message, /export the environment variable ABSENT_VAR/);
      assert.ok(!error.message.includes(STACK_VALUES["win:productKey"]!));
      return true;
    });
  });

  it("without a stack runs no pulumi and says to build with --stack", async () => {
    const exec = pulumiCli();
    await assert.rejects(recipeSecretSources(["pulumi:joinPassword"], { env: {}, cwd: "/project", exec }), /secret pulumi:joinPassword needs a Pulumi stack.*build with --stack NAME/);
    assert.equal(exec.calls.length, 0);
  });

  it("a recipe with only env: references reads nothing from the stack", async () => {
    const exec = pulumiCli();
    await recipeSecretSources(["env:JOIN_USER"], { stack: "lab", env: { JOIN_USER: "svc" }, cwd: "/project", exec });
    assert.equal(exec.calls.length, 0);
  });
});

describe("rebake build with pulumi: secrets in the recipe", () => {
  const fixtures = fileURLToPath(new URL("../fixtures/plan", import.meta.url));
  let root: string;
  let env: NodeJS.ProcessEnv;
  const log = () => join(root, "pulumi-calls.log");

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "rebake-build-secrets-"));
    await cp(fixtures, root, { recursive: true });
    const recipe = await readFile(join(root, "recipes/plan-win-mcs.yaml"), "utf8");
    await writeFile(
      join(root, "recipes/plan-win-mcs.yaml"),
      recipe.replace("  edition: Windows 11 Enterprise\n", "  edition: Windows 11 Enterprise\n  productKey: pulumi:win:productKey\n").replace("password: env:JOIN_PASSWORD", "password: pulumi:joinPassword"),
    );
    await mkdir(join(root, "stacks"));
    await writeFile(join(root, "stacks/Pulumi.lab.yaml"), [
      "config:",
      "  rebake:target: pvs",
      "  rebake:image: { recipe: plan-win-mcs, version: 1.0.0 }",
      "  rebake:hypervisor: { kind: qemu }",
      "  rebake:pvs:",
      "    server: pvs01.corp.example",
      "    executor: { kind: local }",
      "    accessMode: production",
      "    sites: [{ name: HQ, server: pvs01.corp.example, collection: Apps, store: { name: Store-HQ, location: /mnt/hq } }]",
      "",
    ].join("\n"));
    // The fake `pulumi` first on PATH: records its arguments, answers `config get` from values.txt (key=value lines).
    await mkdir(join(root, "bin"));
    await writeFile(join(root, "bin/pulumi"), [
      "#!/bin/sh",
      `echo "$*" >> '${log()}'`,
      `[ "$1 $2 $4 $5" = "config get --stack lab" ] || { echo "unexpected: pulumi $*" >&2; exit 2; }`,
      `awk -v key="$3" 'index($0, key "=") == 1 { print substr($0, length(key) + 2); found = 1 } END { exit !found }' '${join(root, "values.txt")}' && exit 0`,
      `echo "error: configuration key '$3' not found for stack '$5'" >&2`,
      "exit 255",
      "",
    ].join("\n"));
    await chmod(join(root, "bin/pulumi"), 0o755);
    // A regular file where the output directory's parent should be: the build fails in its first
    // step (prepare), after the secret check and long before a VM could be created.
    await writeFile(join(root, "not-a-dir"), "");
    env = { ...process.env, PATH: `${join(root, "bin")}${delimiter}${process.env.PATH ?? ""}`, JOIN_PASSWORD: "" };
  });
  after(() => rm(root, { recursive: true, force: true }));

  const build = (values: string) =>
    writeFile(join(root, "values.txt"), values).then(() =>
      runCliJson(["build", "recipes/plan-win-mcs.yaml", "--stack", "lab", "--json", "--no-verify", "--out", "not-a-dir/out", "--cache-dir", join(root, "cache")], { cwd: root, env, boundMs: 60_000 }),
    );

  it("exits 1 before any VM exists, naming every key the stack lacks", async () => {
    await rm(log(), { force: true });
    const run = await build("unrelated=x\n");
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^rebake build: secret-not-found {2}2 secrets cannot be resolved:\n/);
    assert.match(run.stderr, /secret pulumi:win:productKey is not in the stack configuration: run `pulumi config set win:productKey --secret` for the stack/);
    assert.match(run.stderr, /secret pulumi:joinPassword is not in the stack configuration: run `pulumi config set joinPassword --secret` for the stack/);
    assert.deepEqual(run.events, [], "the build never started");
    assert.deepEqual((await readFile(log(), "utf8")).trim().split("\n").sort(), ["config get joinPassword --stack lab", "config get win:productKey --stack lab"]);
  });

  it("without --stack a pulumi: reference fails at once with the hint to build with --stack", async () => {
    await rm(log(), { force: true });
    const run = await runCliJson(["build", "recipes/plan-win-mcs.yaml", "--json", "--no-verify", "--out", "not-a-dir/out", "--cache-dir", join(root, "cache")], { cwd: root, env, boundMs: 60_000 });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^rebake build: secret-not-found {2}2 secrets cannot be resolved:\n/);
    assert.match(run.stderr, /secret pulumi:joinPassword needs a Pulumi stack, but this build runs without one: build with --stack NAME/);
    assert.deepEqual(run.events, []);
    await assert.rejects(readFile(log(), "utf8"), { code: "ENOENT" }, "pulumi was not run");
  });

  it("with the keys in the stack the check passes and the build starts", async () => {
    await rm(log(), { force: true });
    const run = await build(Object.entries(STACK_VALUES).map(([key, value]) => `${key}=${value}\n`).join(""));
    assert.equal(run.code, 1, "the build stops in prepare, at the output directory");
    assert.doesNotMatch(run.stderr, /secret-not-found|cannot be resolved/, run.stderr);
    assert.ok(run.events.some((e) => e.type === "build-start"), run.stderr);
    const started = run.events.flatMap((e) => (e.type === "step-start" ? [e.step] : []));
    assert.deepEqual(started, ["prepare"], "no step after prepare ran: no VM was created");
    assert.equal((await readFile(log(), "utf8")).trim().split("\n").length, 2, "each key is read once");
    const printed = run.stderr + JSON.stringify(run.events);
    for (const value of Object.values(STACK_VALUES)) assert.ok(!printed.includes(value), `printed a secret value: ${printed}`);
  });
});
