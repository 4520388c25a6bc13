/**
 * `pulumi:` secrets in recipes: `rebake build --stack S` reads the recipe's keys and the
 * connection's from the stack in one pass, before anything runs, and checks every reference the
 * recipe and the connection use, reporting all that are missing at once, before any VM exists.
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
import { checkBuildSecrets, loadConnection, MissingCredentialError } from "../../src/cli/wiring.ts";
import { resolveSecret, SecretsMissingError } from "../../src/recipe/secrets.ts";
import { createRecordingExec } from "../../src/util/exec.ts";
import { runCliJson } from "../support/cli-child.ts";

const STACK_VALUES: Readonly<Record<string, string>> = { "win:productKey": "KEY-VALUE-1111", joinPassword: "join \"&calc& %PATH%" };

/** `pulumi config get` answering from STACK_VALUES and `more` (see the contract above). */
const pulumiCli = (more: Readonly<Record<string, string>> = {}) =>
  createRecordingExec((command, args) => {
    const values: Readonly<Record<string, string>> = { ...STACK_VALUES, ...more };
    const value = command === "pulumi" && args[0] === "config" && args[1] === "get" ? values[args[2]!] : undefined;
    return value === undefined ? { exitCode: 255, stderr: `error: configuration key '${args[2]}' not found for stack '${args[4]}'` } : { stdout: `${value}\n` };
  });

/** The lab stack: a PVS target for the fixture recipe, with the given `rebake:hypervisor` lines. */
const labStack = (hypervisor: readonly string[]) =>
  [
    "config:",
    "  rebake:target: pvs",
    "  rebake:image: { recipe: plan-win-mcs, version: 1.0.0 }",
    "  rebake:pvs:",
    "    server: pvs01.corp.example",
    "    executor: { kind: local }",
    "    accessMode: production",
    "    sites: [{ name: HQ, server: pvs01.corp.example, collection: Apps, store: { name: Store-HQ, location: /mnt/hq } }]",
    ...hypervisor,
    "",
  ].join("\n");

/** A build's connection from a stack whose vCenter password is a pulumi: key and whose user is an env: variable. */
async function vsphereStack(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "rebake-build-secrets-unit-"));
  await mkdir(join(root, "stacks"));
  await writeFile(join(root, "stacks/Pulumi.lab.yaml"), labStack([
    "  rebake:hypervisor:",
    "    kind: vsphere",
    "    server: vcenter.corp.example",
    "    datacenter: DC1",
    "    username: env:VCENTER_USER",
    "    password: pulumi:vcenterPassword",
    "    datastore: vsanDatastore",
    "    network: VM Network",
  ]));
  return root;
}

describe("a build's secrets: loadConnection reads the stack once, checkBuildSecrets reports everything missing at once", () => {
  let root: string;
  before(async () => {
    root = await vsphereStack();
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("reads each pulumi: key once, the recipe's and the connection's in one pass, and resolves every reference", async () => {
    const exec = pulumiCli({ vcenterPassword: "vc-secret" });
    const refs = ["pulumi:win:productKey", "env:JOIN_USER", "pulumi:joinPassword", "pulumi:vcenterPassword"];
    const loaded = await loadConnection({ stack: "lab" }, { cwd: root, exec, recipeRefs: refs });
    assert.deepEqual(exec.calls.map((c) => c.args[2]).sort(), ["joinPassword", "vcenterPassword", "win:productKey"], "vcenterPassword, used by both, read once");
    const env = { JOIN_USER: "svc", VCENTER_USER: "svc-rebake" };
    const sources = checkBuildSecrets(refs, undefined, { env, ...loaded });
    assert.equal(resolveSecret("pulumi:joinPassword", sources), STACK_VALUES.joinPassword);
    assert.equal(resolveSecret("env:JOIN_USER", sources), "svc");
  });

  it("names every missing secret of the recipe and of the connection in one error, with how to provide each, never a value", async () => {
    const refs = ["pulumi:win:productKey", "pulumi:absentKey", "env:ABSENT_VAR"];
    const loaded = await loadConnection({ stack: "lab" }, { cwd: root, exec: pulumiCli(), recipeRefs: refs });
    assert.throws(() => checkBuildSecrets(refs, undefined, { env: {}, ...loaded }), (error: Error) => {
      assert.ok(error instanceof SecretsMissingError);
      assert.equal(error.rule, "secret-not-found");
      assert.deepEqual(error.errors.map((e) => e.ref), ["pulumi:absentKey", "env:ABSENT_VAR", "env:VCENTER_USER", "pulumi:vcenterPassword"]);
      assert.match(error.message, /^4 secrets cannot be resolved:\n/);
      assert.match(error.message, /pulumi config set absentKey --secret/);
      assert.match(error.message, /export the environment variable ABSENT_VAR/);
      assert.match(error.message, /hypervisor\.username from stacks\/Pulumi\.lab\.yaml: .*VCENTER_USER/);
      assert.match(error.message, /hypervisor\.password \(vSphere password\) from stacks\/Pulumi\.lab\.yaml: .*pulumi config set vcenterPassword --secret/);
      assert.ok(!error.message.includes(STACK_VALUES["win:productKey"]!));
      return true;
    });
  });

  it("only the recipe's or only the connection's missing: the error of that kind", async () => {
    const loaded = await loadConnection({ stack: "lab" }, { cwd: root, exec: pulumiCli({ vcenterPassword: "vc-secret" }), recipeRefs: ["env:ABSENT_VAR"] });
    assert.throws(() => checkBuildSecrets(["env:ABSENT_VAR"], undefined, { env: { VCENTER_USER: "svc" }, ...loaded }), (e: Error) => e instanceof SecretsMissingError && e.errors.length === 1);
    assert.throws(() => checkBuildSecrets([], undefined, { env: {}, ...loaded }), (e: Error) => e instanceof MissingCredentialError && e.missing.length === 1);
  });

  it("without a stack runs no pulumi and says to build with --stack", () => {
    assert.throws(() => checkBuildSecrets(["pulumi:joinPassword"], undefined, { env: {} }), /secret pulumi:joinPassword needs a Pulumi stack.*build with --stack NAME/);
  });

  it("a local build (--driver qemu) of a remote stack reads only the recipe's keys", async () => {
    const exec = pulumiCli();
    const loaded = await loadConnection({ stack: "lab", driver: "qemu" }, { cwd: root, exec, recipeRefs: ["pulumi:joinPassword", "env:JOIN_USER"] });
    assert.deepEqual(exec.calls.map((c) => c.args[2]), ["joinPassword"]);
    checkBuildSecrets(["pulumi:joinPassword"], "qemu", { env: {}, ...loaded });
  });

  it("a recipe with only env: references and an env: connection reads nothing from the stack", async () => {
    const exec = pulumiCli();
    await loadConnection({ stack: "lab", driver: "qemu" }, { cwd: root, exec, recipeRefs: ["env:JOIN_USER"] });
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
    await writeFile(join(root, "stacks/Pulumi.lab.yaml"), labStack(["  rebake:hypervisor: { kind: qemu }"]));
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
