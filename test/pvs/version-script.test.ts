/**
 * The version scripts run in PowerShell 7 against a recording fake of the snap-in's version
 * cmdlets. The fake keeps a version list the way the reference describes it
 * (citrix/provisioning-services-powershell-object-programming-guide docs/cmdlets.md): Get-PvsDiskVersion
 * returns objects with Version and Access (§ Get-PvsDiskVersion: 0 Production, 1 Maintenance, 7 Test);
 * Invoke-PvsPromoteDiskVersion -Test turns Maintenance into Test, without switches Maintenance into
 * Production, -TestVersion that Test version into Production (§ Invoke-PvsPromoteDiskVersion);
 * Invoke-PvsRevertDiskVersion sets the highest version to Maintenance, or Test with -Test, and
 * -Version n sets version n to Test, refused when a higher Production version exists
 * (§ Invoke-PvsRevertDiskVersion); Add-PvsDiskVersion refuses without a manifest (§ Add-PvsDiskVersion).
 * The fake's Add-PvsDiskVersion numbers the added version after the existing ones.
 * What access Add-PvsDiskVersion gives a version the reference does not say: each case sets it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createExec } from "../../src/util/exec.ts";
import { createDeviceScript } from "../../src/devices/device-script.ts";
import { deviceAccessLine, ensureVersionScript, type VersionRequest } from "../../src/pvs/version-script.ts";

import { PVS_STUB_MODULE } from "../support/pvs-stub.ts";
import { findPwsh, runWithStub } from "../support/pwsh.ts";

const exec = createExec();

const TARGET = { connectionServer: "pvs01", port: 54321, vdiskName: "ws2022", storeName: "Store", siteName: "HQ" } as const;

/** The fake snap-in: versions as a list, every call recorded as "<cmdlet> <switches>". */
function fake(versions: readonly { v: number; a: number }[], added: { a: number } | undefined): string {
  return `
$global:calls = @()
$global:versions = [System.Collections.ArrayList]@(${versions.map((x) => `[pscustomobject]@{ Version = ${x.v}; Access = ${x.a} }`).join(", ")})
function Add-PSSnapin { }
function Set-PvsConnection { }
function Get-PvsDiskVersion { $global:versions | ForEach-Object { $_ } }
function Add-PvsDiskVersion { $global:calls += 'Add'; ${added ? `[void]$global:versions.Add([pscustomobject]@{ Version = ($global:versions.Count); Access = ${added.a} })` : "throw 'no manifest in the store'"} }
function Highest { $global:versions | Sort-Object Version | Select-Object -Last 1 }
function Invoke-PvsPromoteDiskVersion { param($Name, $SiteName, $StoreName, [switch]$Test, $TestVersion)
  if ($TestVersion) { $global:calls += "Promote -TestVersion $TestVersion"; ($global:versions | Where-Object Version -eq $TestVersion).Access = 0 }
  elseif ($Test) { $global:calls += 'Promote -Test'; (Highest).Access = 7 }
  else { $global:calls += 'Promote'; (Highest).Access = 0 } }
function Invoke-PvsRevertDiskVersion { param($Name, $SiteName, $StoreName, [switch]$Test, $Version)
  if ($Version) { if (@($global:versions | Where-Object { $_.Version -gt $Version -and $_.Access -eq 0 }).Count) { throw 'a higher Production version exists' }; $global:calls += "Revert -Version $Version"; ($global:versions | Where-Object Version -eq $Version).Access = 7 }
  elseif ($Test) { $global:calls += 'Revert -Test'; (Highest).Access = 7 }
  else { $global:calls += 'Revert'; (Highest).Access = 1 } }
function Merge-PvsDisk { param($Name, $SiteName, $StoreName, [switch]$NewBase, $Access) $global:calls += "Merge -NewBase:$NewBase -Access $Access" }
`;
}

async function run(script: string, prelude: string): Promise<{ calls: string[]; output: string }> {
  // A throw is reported as an ERROR line, so the calls made before it are still printed.
  const wrapped = `${prelude}\ntry {\n${script}\n} catch { Write-Output ('ERROR ' + $_) } finally { Write-Output ('CALLS=' + ($global:calls -join '|')) }`;
  const { stdout } = await exec(await findPwsh(), ["-NoProfile", "-NonInteractive", "-Command", wrapped]);
  const calls = /^CALLS=(.*)$/m.exec(stdout)?.[1]?.split("|").filter(Boolean) ?? [];
  return { calls, output: stdout };
}

const cases: { name: string; request: Partial<VersionRequest>; versions: { v: number; a: number }[]; added: { a: number } | undefined; calls: string[] }[] = [
  { name: "dev: an added maintenance version stays in maintenance", request: { accessMode: "maintenance" }, versions: [{ v: 0, a: 0 }], added: { a: 1 }, calls: ["Add"] },
  { name: "test: an added maintenance version is promoted to test", request: { accessMode: "test" }, versions: [{ v: 0, a: 0 }], added: { a: 1 }, calls: ["Add", "Promote -Test"] },
  { name: "prod: an added maintenance version is promoted to production", request: { accessMode: "production" }, versions: [{ v: 0, a: 0 }], added: { a: 1 }, calls: ["Add", "Promote"] },
  { name: "prod: an added test version is promoted by its number", request: { accessMode: "production" }, versions: [{ v: 0, a: 0 }], added: { a: 7 }, calls: ["Add", "Promote -TestVersion 1"] },
  { name: "dev: an added production version is reverted to maintenance", request: { accessMode: "maintenance" }, versions: [{ v: 0, a: 0 }], added: { a: 0 }, calls: ["Add", "Revert"] },
  {
    name: "a chain longer than the limit is merged into a new base at the stack's access",
    request: { accessMode: "production", number: 2, maxChain: 2 },
    versions: [{ v: 0, a: 0 }, { v: 1, a: 0 }],
    added: { a: 1 },
    calls: ["Add", "Promote", "Merge -NewBase:True -Access 0"],
  },
  { name: "a rerun finds the version and adds nothing", request: { accessMode: "test" }, versions: [{ v: 0, a: 0 }, { v: 1, a: 7 }], added: undefined, calls: [] },
  { name: "promote: the next stack's run moves the test version to production", request: { accessMode: "production" }, versions: [{ v: 0, a: 0 }, { v: 1, a: 7 }], added: undefined, calls: ["Promote -TestVersion 1"] },
  {
    name: "rollback: production versions above the pinned one go back to test, highest first",
    request: { accessMode: "production", number: 1 },
    versions: [{ v: 0, a: 0 }, { v: 1, a: 0 }, { v: 2, a: 0 }, { v: 3, a: 0 }],
    added: undefined,
    calls: ["Revert -Version 3", "Revert -Version 2"],
  },
];

for (const c of cases) {
  test(`the version script: ${c.name}`, async () => {
    const { calls, output } = await run(ensureVersionScript({ ...TARGET, accessMode: "production", number: 1, ...c.request }), fake(c.versions, c.added));
    assert.deepEqual(calls, c.calls, output);
    assert.match(output, /REBAKE-RESULT /);
  });
}

test("add version fails with the fix when the store has no manifest for it", async () => {
  const { calls, output } = await run(ensureVersionScript({ ...TARGET, accessMode: "test", number: 1 }), fake([{ v: 0, a: 0 }], undefined));
  assert.deepEqual(calls, ["Add"]);
  assert.match(output, /ERROR .*no manifest/);
});

test("devices get the Set-PvsDevice type of their stack's access", () => {
  assert.deepEqual(
    (["maintenance", "test", "production"] as const).map((mode) => deviceAccessLine("VDI-01", mode)),
    ["Set-PvsDevice -Name 'VDI-01' -Type 2", "Set-PvsDevice -Name 'VDI-01' -Type 1", "Set-PvsDevice -Name 'VDI-01' -Type 0"],
  );
});

test("a device script sets the device's type only when the stack's access is known", () => {
  const request = { connectionServer: "pvs01", port: 54321, mac: "00-11-22-33-44-55", deviceName: "VDI-01", collectionName: "C", siteName: "HQ", diskLocatorName: "ws2022", storeName: "Store" } as const;
  assert.match(createDeviceScript({ ...request, accessMode: "test" }), /^Set-PvsDevice -Name 'VDI-01' -Type 1\r$/m);
  assert.doesNotMatch(createDeviceScript(request), /Set-PvsDevice/);
});

/**
 * The same scripts against the stub snap-in generated from Citrix's reference (test/support/pvs-stub.ts):
 * every parameter they pass must be one the reference lists, with its required groups. The stub
 * keeps no state, so Get-PvsDiskVersion answers are scripted call by call.
 */
const DISK = { Name: "ws2022", SiteName: "HQ", StoreName: "Store" };
const versions = (...list: [number, number][]) => ({ returns: list.map(([Version, Access]) => ({ Version, Access })) });

test("the version script passes only referenced parameters: add, promote to production, merge (stub snap-in)", async () => {
  const before = versions([0, 0], [1, 0], [2, 0]);
  const after = versions([0, 0], [1, 0], [2, 0], [3, 1]);
  const result = await runWithStub(PVS_STUB_MODULE, ensureVersionScript({ ...TARGET, vdiskName: "ws2022", accessMode: "production", number: 3, maxChain: 3 }), { "Get-PvsDiskVersion": [before, after] });
  assert.equal(result.exitCode, 0, result.stderr);
  const calls = result.calls.filter((c) => c.cmdlet !== "Get-PvsDiskVersion").map((c) => [c.cmdlet, c.parameters]);
  assert.deepEqual(calls.slice(2), [
    ["Add-PvsDiskVersion", { Name: [DISK.Name], SiteName: [DISK.SiteName], StoreName: [DISK.StoreName] }],
    ["Invoke-PvsPromoteDiskVersion", { Name: [DISK.Name], SiteName: [DISK.SiteName], StoreName: [DISK.StoreName] }],
    ["Merge-PvsDisk", { Name: [DISK.Name], SiteName: [DISK.SiteName], StoreName: [DISK.StoreName], NewBase: true, Access: 0 }],
  ]);
});

test("the version script's rollback and test promotion pass only referenced parameters (stub snap-in)", async () => {
  const rollback = await runWithStub(PVS_STUB_MODULE, ensureVersionScript({ ...TARGET, vdiskName: "ws2022", accessMode: "production", number: 1 }), { "Get-PvsDiskVersion": [versions([0, 0], [1, 0], [2, 0])] });
  assert.equal(rollback.exitCode, 0, rollback.stderr);
  assert.deepEqual(rollback.calls.filter((c) => c.cmdlet === "Invoke-PvsRevertDiskVersion").map((c) => c.parameters), [{ Name: [DISK.Name], SiteName: [DISK.SiteName], StoreName: [DISK.StoreName], Version: 2 }]);
  const toTest = await runWithStub(PVS_STUB_MODULE, ensureVersionScript({ ...TARGET, vdiskName: "ws2022", accessMode: "test", number: 1 }), { "Get-PvsDiskVersion": [versions([0, 0], [1, 1])] });
  assert.equal(toTest.exitCode, 0, toTest.stderr);
  assert.deepEqual(toTest.calls.filter((c) => c.cmdlet === "Invoke-PvsPromoteDiskVersion").map((c) => c.parameters), [{ Name: [DISK.Name], SiteName: [DISK.SiteName], StoreName: [DISK.StoreName], Test: true }]);
});

test("a device of a test stack is set to the test type through referenced parameters (stub snap-in)", async () => {
  const request = { connectionServer: "pvs01", port: 54321, mac: "00-11-22-33-44-55", deviceName: "VDI-01", collectionName: "C", siteName: "HQ", diskLocatorName: "ws2022", storeName: "Store", accessMode: "test" } as const;
  const result = await runWithStub(PVS_STUB_MODULE, createDeviceScript(request));
  assert.equal(result.exitCode, 0, result.stderr);
  assert.deepEqual(result.calls.filter((c) => c.cmdlet === "Set-PvsDevice").map((c) => c.parameters), [{ Name: "VDI-01", Type: 1 }]);
});
