/**
 * The MCS catalog image via the Citrix PowerShell SDK: the provider's create / update / delete run
 * the Publish-ProvMasterVMImage script through the executor and keep the replaced image for the
 * rollback. First with a recording executor (which scripts, in which order), then end to end with
 * the scripts in real pwsh against the stub Citrix cmdlets (test/support/mcs-stub.ts).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  createPowerShellCatalogImage,
  deletePowerShellCatalogImage,
  diffPowerShellCatalogImage,
  readPowerShellCatalogImage,
  updatePowerShellCatalogImage,
  type PowerShellCatalogImageInputs,
  type PowerShellCatalogImageOutputs,
} from "../../src/publish/mcs/catalog-image-powershell.ts";
import { catalogImageProvider } from "../../src/publish/providers/mcs.ts";
import { PowerShellError, type PowerShellExecutor } from "../../src/pvs/executor.ts";
import { recordingExecutor } from "../../src/pvs/recording-executor.ts";
import type { PowerShellExecutorConfig } from "../../src/stacks/model.ts";
import { MCS_STUB_MODULE } from "../support/mcs-stub.ts";
import { runWithStub, type StubCall } from "../support/pwsh.ts";

const OLD = "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\w11-1.3.0.snapshot";
const NEW = "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\w11-1.3.0.snapshot\\w11-1.4.0.snapshot";
const TASK_ID = "248f102f-073f-45fe-aea9-1819a6d6dd1f";
const SSH: PowerShellExecutorConfig = { kind: "ssh", host: "ddc01.corp.example", user: "svc-rebake", port: 22 };
const inputs: PowerShellCatalogImageInputs = { via: "powershell", adminAddress: "ddc01.corp.example", catalogName: "W11-Pooled", masterImagePath: NEW, executor: SSH, reboot: "rolling", rebootWarningMinutes: 15, rebootDurationMinutes: 240 };
const outputs: PowerShellCatalogImageOutputs = { ...inputs, previousImagePath: OLD };

/** The result line the publish script prints, with the image the catalog had. */
const published = (previous: string) => ({ stdout: `Publishing\nREBAKE-RESULT ${JSON.stringify({ taskId: TASK_ID, masterImagePath: "x", previousImagePath: previous })}\n` });

/** The -MasterImageVM each recorded publish script names. */
function publishedImages(scripts: readonly string[]): string[] {
  return scripts.map((script) => /-MasterImageVM '([^']*)'/.exec(script)?.[1] ?? "(no publish)");
}

describe("MCS catalog image via PowerShell, with a recording executor", () => {
  test("create publishes the new image and keeps the one it replaced for the rollback", async () => {
    const executor = recordingExecutor(() => published(OLD));
    const configs: PowerShellExecutorConfig[] = [];
    const { id, outs } = await createPowerShellCatalogImage(inputs, { executorOf: (config) => (configs.push(config), executor) });
    assert.equal(id, "W11-Pooled");
    assert.equal(outs.previousImagePath, OLD);
    assert.deepEqual(publishedImages(executor.scripts), [NEW]);
    assert.deepEqual(configs, [SSH]);
  });

  const updates: { name: string; olds: PowerShellCatalogImageOutputs; news: PowerShellCatalogImageInputs; publishes: string[]; previous: string }[] = [
    { name: "the same image publishes nothing and keeps the rollback target", olds: { ...outputs, masterImagePath: NEW }, news: { ...inputs, rebootWarningMinutes: 5 }, publishes: [], previous: OLD },
    { name: "a new image publishes it; the image it replaces becomes the rollback target", olds: { ...outputs, masterImagePath: OLD, previousImagePath: "older" }, news: inputs, publishes: [NEW], previous: OLD },
  ];
  for (const { name, olds, news, publishes, previous } of updates) {
    test(`update: ${name}`, async () => {
      const executor = recordingExecutor(() => published("ignored"));
      const { outs } = await updatePowerShellCatalogImage("W11-Pooled", olds, news, { executorOf: () => executor });
      assert.deepEqual(publishedImages(executor.scripts), publishes);
      assert.equal(outs.previousImagePath, previous);
    });
  }

  test("delete publishes the image the catalog had before", async () => {
    const executor = recordingExecutor(() => published(NEW));
    await deletePowerShellCatalogImage("W11-Pooled", outputs, { executorOf: () => executor });
    assert.deepEqual(publishedImages(executor.scripts), [OLD]);
  });

  const failures: { name: string; answer: { stdout?: string; exitCode?: number }; error: RegExp }[] = [
    { name: "a script that prints no result line", answer: { stdout: "WARNING: something\n" }, error: /printed no result line; its output was:\nWARNING: something/ },
    { name: "a script that fails", answer: { exitCode: 1 }, error: /exit code 1/ },
  ];
  for (const { name, answer, error } of failures) {
    test(`create fails on ${name}`, async () => {
      await assert.rejects(createPowerShellCatalogImage(inputs, { executorOf: () => recordingExecutor(() => answer) }), (e: unknown) => e instanceof PowerShellError && error.test(e.message));
    });
  }

  const diffs: { name: string; news: PowerShellCatalogImageInputs; changes: boolean; replaces: string[] }[] = [
    { name: "nothing changed", news: inputs, changes: false, replaces: [] },
    { name: "a new image", news: { ...inputs, masterImagePath: "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\w11-1.5.0.snapshot" }, changes: true, replaces: [] },
    { name: "another executor", news: { ...inputs, executor: { kind: "local" } }, changes: true, replaces: [] },
    { name: "another catalog", news: { ...inputs, catalogName: "W11-Other" }, changes: true, replaces: ["catalogName"] },
    { name: "another Delivery Controller", news: { ...inputs, adminAddress: "ddc02.corp.example" }, changes: true, replaces: ["adminAddress"] },
  ];
  for (const { name, news, changes, replaces } of diffs) {
    test(`diff: ${name}`, () => {
      assert.deepEqual(diffPowerShellCatalogImage(outputs, news), { changes, replaces, deleteBeforeReplace: false });
    });
  }

  test("the provider updates in place, never replaces, when a stack switches from REST to PowerShell (a replacement's delete would roll the catalog back)", async () => {
    const rest = { url: "https://api.cloud.com", customerId: "corp", siteId: "s", tokenRef: "env:T", catalogId: "c", masterImagePath: NEW, reboot: "rolling" as const, rebootWarningMinutes: 15, rebootDurationMinutes: 240, previousImagePath: OLD };
    assert.deepEqual(await catalogImageProvider.diff("c", rest, inputs), { changes: true, replaces: [], deleteBeforeReplace: false });
  });
});

/** An executor that runs each script in real pwsh against the stub Citrix cmdlets, recording the calls. */
function pwshExecutor(responses: Parameters<typeof runWithStub>[2]): PowerShellExecutor & { calls: StubCall[] } {
  const calls: StubCall[] = [];
  return {
    where: "pwsh with the MCS stub module",
    calls,
    async run(script) {
      const run = await runWithStub(MCS_STUB_MODULE, script, responses);
      calls.push(...run.calls);
      if (run.exitCode !== 0) throw new PowerShellError(`exit code ${run.exitCode}: ${run.stderr}`, "pwsh");
      return { command: "pwsh", exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr };
    },
  };
}

describe("MCS catalog image via PowerShell, the scripts in pwsh against stubs of Citrix's cmdlets (Linux, stub module)", () => {
  const scheme = (image: string) => ({ returns: [{ ProvisioningSchemeName: inputs.catalogName, MasterImageVM: image }] });
  const task = { returns: [{ TaskId: TASK_ID, Active: false, TaskState: "Finished", TaskStateInformation: null }] };

  test("create then delete: publishes the new image, then puts the catalog back on the one Get-ProvScheme reported", async () => {
    const executor = pwshExecutor({
      "Get-ProvScheme": [scheme(OLD), scheme(NEW)],
      "Publish-ProvMasterVMImage": [{ returns: [TASK_ID] }, { returns: [TASK_ID] }],
      "Get-ProvTask": [task, task],
      "Get-BrokerCatalog": [{ returns: [{ Name: inputs.catalogName, Uid: 7 }] }, { returns: [{ Name: inputs.catalogName, Uid: 7 }] }],
    });
    const fast = { ...inputs, reboot: "none" as const };
    const environment = { executorOf: () => executor, pollSeconds: 0 };
    const { outs } = await createPowerShellCatalogImage(fast, environment);
    assert.equal(outs.previousImagePath, OLD);
    await deletePowerShellCatalogImage("W11-Pooled", outs, environment);
    const publishes = executor.calls.filter((c) => c.cmdlet === "Publish-ProvMasterVMImage").map((c) => c.parameters.MasterImageVM);
    assert.deepEqual(publishes, [NEW, OLD]);
  });

  test("status reads the image the provisioning scheme uses", async () => {
    const executor = pwshExecutor({ "Get-ProvScheme": [scheme(NEW)] });
    assert.equal(await readPowerShellCatalogImage(inputs, { executorOf: () => executor }), NEW);
  });
});
