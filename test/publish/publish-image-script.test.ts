/**
 * The Publish-ProvMasterVMImage script runs in real pwsh (on Linux) against stub Citrix cmdlets
 * generated from Citrix's cmdlet reference (test/contracts/citrix-mcs-cmdlets.ts): PowerShell's
 * binder refuses what the real snap-ins would, and the recorded calls are asserted.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { publishImageScript, SNAP_INS, type PublishImageRequest } from "../../src/publish/mcs/publish-image-script.ts";
import { REBOOT_WARNING_MESSAGE } from "../../src/publish/mcs/reboot-options.ts";
import { MCS_CMDLETS } from "../contracts/citrix-mcs-cmdlets.ts";
import { runWithStubs, stubModule, type RecordedCall } from "../support/citrix-stub-module.ts";
import { findPwsh } from "../support/pwsh.ts";

// Never skipped: without pwsh this fails with how to install it.
const pwsh = await findPwsh();
/** Citrix's own example task id (Publish-ProvMasterVMImage.md Example 1). */
const TASK_ID = "248f102f-073f-45fe-aea9-1819a6d6dd1f";
const IMAGE = "XDHyp:\\HostingUnits\\HU1\\VDI.resourcepool\\W11-GOLD.vm\\w11-1.3.0.snapshot\\w11-1.4.0.snapshot";

const module = stubModule(MCS_CMDLETS, {
  "Publish-ProvMasterVMImage": `if ($RunAsynchronously) { [guid]'${TASK_ID}' }`,
  "Get-ProvTask": [
    "$state = $global:RebakeTaskStates[0]",
    "if ($global:RebakeTaskStates.Count -gt 1) { $global:RebakeTaskStates = @($global:RebakeTaskStates | Select-Object -Skip 1) }",
    "[pscustomobject]@{ TaskId = $TaskId; Active = $state.Active; TaskState = $state.TaskState; TaskStateInformation = $state.Info }",
  ].join("; "),
  "Get-BrokerCatalog": "[pscustomobject]@{ Name = $Name; Uid = 7 }",
});

const FINISHES = "$global:RebakeTaskStates = @(@{ Active = $true; TaskState = 'ConsolidatingMasterImage' }, @{ Active = $false; TaskState = 'Finished' })";

const base: PublishImageRequest = { adminAddress: "ddc01.corp.example", catalogName: "W11-Pooled", masterImagePath: IMAGE, reboot: "rolling", rebootWarningMinutes: 15, rebootDurationMinutes: 240, pollSeconds: 0 };

function publishCalls(request: PublishImageRequest): RecordedCall[] {
  return [
    { cmdlet: "Add-PSSnapin", parameters: { Name: [...SNAP_INS] } },
    { cmdlet: "Publish-ProvMasterVMImage", parameters: { ProvisioningSchemeName: request.catalogName, MasterImageVM: request.masterImagePath, RunAsynchronously: true, AdminAddress: request.adminAddress } },
    { cmdlet: "Get-ProvTask", parameters: { TaskId: TASK_ID, AdminAddress: request.adminAddress } },
    { cmdlet: "Get-ProvTask", parameters: { TaskId: TASK_ID, AdminAddress: request.adminAddress } },
  ];
}

function rebootCalls(request: PublishImageRequest, duration: number): RecordedCall[] {
  return [
    { cmdlet: "Get-BrokerCatalog", parameters: { Name: request.catalogName, AdminAddress: request.adminAddress } },
    { cmdlet: "Start-BrokerRebootCycle", parameters: { RebootDuration: duration, WarningDuration: request.rebootWarningMinutes, WarningMessage: REBOOT_WARNING_MESSAGE, AdminAddress: request.adminAddress, InputObject: `catalog:${request.catalogName}` } },
  ];
}

describe("Publish-ProvMasterVMImage script in pwsh against stubs of Citrix's cmdlets (Linux, stub module)", () => {
  const cases: { name: string; request: PublishImageRequest; reboot: RecordedCall[] }[] = [
    { name: "a rolling reboot cycles the catalog over its duration", request: base, reboot: rebootCalls(base, 240) },
    { name: "an immediate reboot cycles with duration 0", request: { ...base, reboot: "immediate" }, reboot: rebootCalls({ ...base, reboot: "immediate" }, 0) },
    { name: "no reboot leaves the machines to their next restart", request: { ...base, reboot: "none" }, reboot: [] },
    { name: "a name with a quote stays one literal", request: { ...base, catalogName: "O'Brien Pool" }, reboot: rebootCalls({ ...base, catalogName: "O'Brien Pool" }, 240) },
  ];
  for (const { name, request, reboot } of cases) {
    test(`${name}: publishes asynchronously, waits for the task, then the reboot`, async () => {
      const run = await runWithStubs(pwsh, module, publishImageScript(request), FINISHES);
      assert.equal(run.error, undefined, run.stdout);
      assert.deepEqual(run.calls, [...publishCalls(request), ...reboot]);
      assert.match(run.stdout, new RegExp(`REBAKE-RESULT .*"taskId":"${TASK_ID}"`));
    });
  }

  test("a task that ends in a failure state fails with Citrix's state and information, and reboots nothing", async () => {
    const failing = "$global:RebakeTaskStates = @(@{ Active = $false; TaskState = 'VirtualMachineSnapshotNotFound'; Info = 'w11-1.4.0.snapshot' })";
    const run = await runWithStubs(pwsh, module, publishImageScript(base), failing);
    assert.match(run.error ?? "", /ended VirtualMachineSnapshotNotFound: w11-1\.4\.0\.snapshot/);
    assert.deepEqual(run.calls.map((c) => c.cmdlet), ["Add-PSSnapin", "Publish-ProvMasterVMImage", "Get-ProvTask"]);
  });

  const refused = [
    { why: "a parameter the cmdlet does not have", call: "Publish-ProvMasterVMImage -ProvisioningSchemeName 'x' -MasterImageVM 'y' -Description 'z'", error: /Description/ },
    { why: "-RunAsynchronously without the -MasterImageVM its parameter sets require", call: "Publish-ProvMasterVMImage -ProvisioningSchemeName 'x' -RunAsynchronously", error: /MasterImageVM|parameter set/ },
    { why: "a reboot cycle without -RebootDuration", call: "[pscustomobject]@{ Name = 'c' } | Start-BrokerRebootCycle -WarningDuration 5", error: /RebootDuration/ },
  ];
  for (const { why, call, error } of refused) {
    test(`the stubs refuse ${why}, as the snap-in would`, async () => {
      const run = await runWithStubs(pwsh, module, `$ErrorActionPreference = 'Stop'\n${call}\n`);
      assert.match(run.error ?? "", error);
    });
  }
});
