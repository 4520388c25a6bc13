/**
 * The Publish-ProvMasterVMImage script runs in real pwsh (on Linux) against stub Citrix cmdlets
 * generated from Citrix's cmdlet reference (test/contracts/citrix-mcs-cmdlets.ts, module
 * test/support/mcs-stub.ts): PowerShell's binder refuses what the real snap-ins would, and the
 * recorded calls are asserted.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { currentImageScript, publishImageScript, SNAP_INS, type PublishImageRequest } from "../../src/publish/mcs/publish-image-script.ts";
import { REBOOT_WARNING_MESSAGE } from "../../src/publish/mcs/reboot-options.ts";
import { MCS_STUB_MODULE } from "../support/mcs-stub.ts";
import { findPwsh, runWithStub, type StubCall, type StubResponses } from "../support/pwsh.ts";

// Never skipped: without pwsh this fails with how to install it.
await findPwsh();
/** Citrix's own example task id (Publish-ProvMasterVMImage.md Example 1). */
const TASK_ID = "248f102f-073f-45fe-aea9-1819a6d6dd1f";
const IMAGE = "XDHyp:\\HostingUnits\\HU1\\VDI.resourcepool\\W11-GOLD.vm\\w11-1.3.0.snapshot\\w11-1.4.0.snapshot";
const CATALOG_UID = 7;
/** The image the catalog had, in the form Get-ProvScheme.md's example shows MasterImageVM. */
const PREVIOUS = "/W11-GOLD.vm/w11-1.3.0.snapshot";

/** The task id (a [guid], as the table says -RunAsynchronously returns), the task's states in turn, and the catalog. */
function responses(request: PublishImageRequest, taskStates: readonly { Active: boolean; TaskState: string; TaskStateInformation?: string }[]): StubResponses {
  return {
    "Get-ProvScheme": [{ returns: [{ ProvisioningSchemeName: request.catalogName, MasterImageVM: PREVIOUS }] }],
    "Publish-ProvMasterVMImage": [{ returns: [TASK_ID] }],
    "Get-ProvTask": taskStates.map((state) => ({ returns: [{ TaskId: TASK_ID, TaskStateInformation: null, ...state }] })),
    "Get-BrokerCatalog": [{ returns: [{ Name: request.catalogName, Uid: CATALOG_UID }] }],
  };
}

const FINISHES = [
  { Active: true, TaskState: "ConsolidatingMasterImage" },
  { Active: false, TaskState: "Finished" },
];
const runStub = (script: string, stubResponses: StubResponses = {}) => runWithStub(MCS_STUB_MODULE, script, stubResponses, { catchError: true });

const base: PublishImageRequest = { adminAddress: "ddc01.corp.example", catalogName: "W11-Pooled", masterImagePath: IMAGE, reboot: "rolling", rebootWarningMinutes: 15, rebootDurationMinutes: 240, pollSeconds: 0 };

function publishCalls(request: PublishImageRequest): StubCall[] {
  return [
    { cmdlet: "Add-PSSnapin", parameters: { Name: [...SNAP_INS] } },
    { cmdlet: "Get-ProvScheme", parameters: { ProvisioningSchemeName: request.catalogName, AdminAddress: request.adminAddress } },
    { cmdlet: "Publish-ProvMasterVMImage", parameters: { ProvisioningSchemeName: request.catalogName, MasterImageVM: request.masterImagePath, RunAsynchronously: true, AdminAddress: request.adminAddress } },
    { cmdlet: "Get-ProvTask", parameters: { TaskId: TASK_ID, AdminAddress: request.adminAddress } },
    { cmdlet: "Get-ProvTask", parameters: { TaskId: TASK_ID, AdminAddress: request.adminAddress } },
  ];
}

function rebootCalls(request: PublishImageRequest, duration: number): StubCall[] {
  return [
    { cmdlet: "Get-BrokerCatalog", parameters: { Name: request.catalogName, AdminAddress: request.adminAddress } },
    { cmdlet: "Start-BrokerRebootCycle", parameters: { RebootDuration: duration, WarningDuration: request.rebootWarningMinutes, WarningMessage: REBOOT_WARNING_MESSAGE, AdminAddress: request.adminAddress, InputObject: { Name: request.catalogName, Uid: CATALOG_UID } } },
  ];
}

describe("Publish-ProvMasterVMImage script in pwsh against stubs of Citrix's cmdlets (Linux, stub module)", () => {
  const cases: { name: string; request: PublishImageRequest; reboot: StubCall[] }[] = [
    { name: "a rolling reboot cycles the catalog over its duration", request: base, reboot: rebootCalls(base, 240) },
    { name: "an immediate reboot cycles with duration 0", request: { ...base, reboot: "immediate" }, reboot: rebootCalls({ ...base, reboot: "immediate" }, 0) },
    { name: "no reboot leaves the machines to their next restart", request: { ...base, reboot: "none" }, reboot: [] },
    { name: "a name with a quote stays one literal", request: { ...base, catalogName: "O'Brien Pool" }, reboot: rebootCalls({ ...base, catalogName: "O'Brien Pool" }, 240) },
  ];
  for (const { name, request, reboot } of cases) {
    test(`${name}: reads the image it replaces, publishes asynchronously, waits for the task, then the reboot`, async () => {
      const run = await runStub(publishImageScript(request), responses(request, FINISHES));
      assert.equal(run.error, undefined, run.stdout);
      assert.deepEqual(run.calls, [...publishCalls(request), ...reboot]);
      const result = JSON.parse(run.stdout.split("\n").find((line) => line.startsWith("REBAKE-RESULT "))!.slice("REBAKE-RESULT ".length));
      assert.deepEqual(result, { taskId: TASK_ID, masterImagePath: request.masterImagePath, previousImagePath: PREVIOUS });
    });
  }

  test("a task that ends in a failure state fails with Citrix's state and information, and reboots nothing", async () => {
    const failing = [{ Active: false, TaskState: "VirtualMachineSnapshotNotFound", TaskStateInformation: "w11-1.4.0.snapshot" }];
    const run = await runStub(publishImageScript(base), responses(base, failing));
    assert.match(run.error ?? "", /ended VirtualMachineSnapshotNotFound: w11-1\.4\.0\.snapshot/);
    assert.deepEqual(run.calls.map((c) => c.cmdlet), ["Add-PSSnapin", "Get-ProvScheme", "Publish-ProvMasterVMImage", "Get-ProvTask"]);
  });

  test("a catalog whose provisioning scheme is not found publishes nothing", async () => {
    const run = await runStub(publishImageScript(base), { "Get-ProvScheme": [{ returns: [] }] });
    assert.match(run.error ?? "", /provisioning scheme W11-Pooled has no MasterImageVM/);
    assert.deepEqual(run.calls.map((c) => c.cmdlet), ["Add-PSSnapin", "Get-ProvScheme"]);
  });

  test("the status script reads the catalog's MasterImageVM from its provisioning scheme", async () => {
    const run = await runStub(currentImageScript(base), { "Get-ProvScheme": [{ returns: [{ ProvisioningSchemeName: base.catalogName, MasterImageVM: IMAGE }] }] });
    assert.equal(run.error, undefined, run.stdout);
    assert.deepEqual(run.calls.slice(1), [{ cmdlet: "Get-ProvScheme", parameters: { ProvisioningSchemeName: base.catalogName, AdminAddress: base.adminAddress } }]);
    assert.match(run.stdout, /REBAKE-RESULT \{"masterImagePath":"XDHyp:\\\\HostingUnits/);
  });

  const refused = [
    { why: "a parameter the cmdlet does not have", call: "Publish-ProvMasterVMImage -ProvisioningSchemeName 'x' -MasterImageVM 'y' -Description 'z'", error: /Description/ },
    { why: "-RunAsynchronously without the -MasterImageVM its parameter sets require", call: "Publish-ProvMasterVMImage -ProvisioningSchemeName 'x' -RunAsynchronously", error: /MasterImageVM|parameter set/ },
    { why: "a reboot cycle without -RebootDuration", call: "[pscustomobject]@{ Name = 'c' } | Start-BrokerRebootCycle -WarningDuration 5", error: /RebootDuration/ },
  ];
  for (const { why, call, error } of refused) {
    test(`the stubs refuse ${why}, as the snap-in would`, async () => {
      const run = await runStub(`$ErrorActionPreference = 'Stop'\n${call}\n`);
      assert.match(run.error ?? "", error);
    });
  }

  const returned = [
    { switch: "-RunAsynchronously", response: TASK_ID, type: "System.Guid" },
    { switch: "", response: { TaskId: TASK_ID, TaskState: "Finished" }, type: "System.Management.Automation.PSCustomObject" },
  ];
  for (const { switch: given, response, type } of returned) {
    test(`the Publish-ProvMasterVMImage stub returns a ${type} ${given ? `with ${given}` : "without -RunAsynchronously"}, as the reference's Return Values say`, async () => {
      const run = await runStub(`$ErrorActionPreference = 'Stop'\n(Publish-ProvMasterVMImage -ProvisioningSchemeName 'x' -MasterImageVM 'y' ${given}).GetType().FullName\n`, { "Publish-ProvMasterVMImage": [{ returns: [response] }] });
      assert.equal(run.error, undefined, run.stdout);
      assert.equal(run.stdout.trim(), type);
    });
  }
});
