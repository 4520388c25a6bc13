import { test } from "node:test";
import assert from "node:assert/strict";
import { publishEnvironment, publishSecretRefs, stackSecretLookup } from "../../src/cli/wiring.ts";
import { environmentSecretSources, resolveSecret } from "../../src/recipe/secrets.ts";
import type { StackConfig } from "../../src/stacks/model.ts";
import type { Exec } from "../../src/util/exec.ts";

const STACK = {
  stack: "prod",
  pvs: { sites: [{ name: "paris", store: { location: "smb://fs/vdisks", username: "svc", password: "pulumi:parisStorePassword" } }, { name: "lyon", store: { location: "/srv/vdisks" } }] },
  hypervisor: { kind: "qemu" },
} as unknown as StackConfig;

/** `pulumi config get <key> --stack prod` as the Pulumi CLI answers it: the value and a newline. */
const pulumiCli: Exec = async (command, args) => {
  const known: Record<string, string> = { parisStorePassword: "s3cret value" };
  const value = args[2] !== undefined ? known[args[2]] : undefined;
  return { command: `${command} ${args.join(" ")}`, exitCode: value === undefined ? 255 : 0, stdout: value === undefined ? "" : `${value}\n`, stderr: "" };
};

test("a pulumi: store password reaches the publish providers, which resolve it from their environment", async () => {
  const refs = publishSecretRefs(STACK);
  assert.deepEqual(refs, ["pulumi:parisStorePassword"]);
  const lookup = await stackSecretLookup(refs, { stack: "prod", cwd: "/project", exec: pulumiCli });
  const engineEnv = publishEnvironment({ PATH: "/usr/bin" }, refs, lookup);
  assert.equal(resolveSecret("pulumi:parisStorePassword", environmentSecretSources(engineEnv)), "s3cret value");
});

test("a pulumi: key the stack does not set fails in the provider, naming the key", async () => {
  const refs = ["pulumi:missingKey"];
  const engineEnv = publishEnvironment({}, refs, await stackSecretLookup(refs, { stack: "prod", cwd: "/project", exec: pulumiCli }));
  assert.throws(() => resolveSecret("pulumi:missingKey", environmentSecretSources(engineEnv)), /pulumi:missingKey/);
});

test("without pulumi: references the stack's secrets are not read at all", async () => {
  const exec: Exec = async () => assert.fail("pulumi was run");
  assert.equal(await stackSecretLookup(["env:STORE_PASSWORD", undefined], { stack: "prod", cwd: "/project", exec }), undefined);
});

const WINRM = { kind: "winrm", host: "h", user: "u", password: "pulumi:winrmPassword", https: true, port: 5986 };
const executorStacks: { name: string; stack: unknown }[] = [
  { name: "the PVS executor", stack: { pvs: { sites: [], executor: WINRM }, hypervisor: { kind: "qemu" } } },
  { name: "the MCS PowerShell executor", stack: { mcs: { via: "powershell", powershell: { adminAddress: "ddc01", executor: WINRM }, catalogs: [] }, hypervisor: { kind: "qemu" } } },
];
for (const { name, stack } of executorStacks) {
  test(`the WinRM password of ${name} reaches the publish providers`, () => {
    assert.deepEqual(publishSecretRefs(stack as StackConfig), ["pulumi:winrmPassword"]);
  });
}
