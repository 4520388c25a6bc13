/**
 * rebake's generated PVS scripts (registration, devices, boot) run in real PowerShell (pwsh, with
 * the executor's own arguments) against the stub Citrix.PVS.SnapIn generated from Citrix's
 * reference (test/support/pvs-cmdlets.ts): a parameter the reference does not list, a missing
 * mandatory one or a missing required group fails the run as it would on a PVS server, and the
 * tests assert the calls the stubs recorded. "Absent" is tried both ways the reference leaves
 * open: the Get returns nothing, or raises a PvsException with a does-not-exist code.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bootstrapScript } from "../../src/boot/bootstrap-script.ts";
import { planSiteBoot, type BootstrapPlan } from "../../src/boot/boot-plan.ts";
import { createDeviceScript, deleteDeviceScript } from "../../src/devices/device-script.ts";
import { registerVdiskScript, RESULT_MARKER, type RegisterVdiskRequest } from "../../src/pvs/register-script.ts";
import { unregisterScript } from "../../src/pvs/registration-resource.ts";
import type { SiteBootConfig } from "../../src/stacks/model.ts";
import { PVS_REFUSAL_ERROR_CODES } from "../support/pvs-cmdlets.ts";
import { PVS_STUB_MODULE } from "../support/pvs-stub.ts";
import { runWithStub, type StubResponses, type StubRun } from "../support/pwsh.ts";

const run = (script: string, responses: StubResponses = {}) => runWithStub(PVS_STUB_MODULE, script, responses);
const cmdlets = (result: StubRun) => result.calls.map((c) => c.cmdlet);
const callsTo = (result: StubRun, cmdlet: string) => result.calls.filter((c) => c.cmdlet === cmdlet).map((c) => c.parameters);
const resultLine = (result: StubRun) => JSON.parse(result.stdout.split(/\r?\n/).find((l) => l.startsWith(RESULT_MARKER))!.slice(RESULT_MARKER.length)) as Record<string, unknown>;
function assertSucceeded(result: StubRun): void {
  assert.equal(result.exitCode, 0, `pwsh failed:\n${result.stderr}`);
}

/** The ways a Get can say "absent" (docs/error-codes.md codes 43, 44, 98; docs/index.md "Error Handling"). */
const absent = (code: number, terminating: boolean) => [{ error: { code, message: "The specified object does not exist.", terminating } }];
const ABSENT_WAYS: [string, (code: number) => StubResponses[string]][] = [
  ["returns nothing", () => [{ returns: [] }]],
  ["throws a terminating PvsException", (code) => absent(code, true)],
  ["writes a non-terminating PvsException", (code) => absent(code, false)],
  ["throws NotFound (98)", () => absent(98, true)],
];
/** The two behaviours every other lookup is tried with: nothing, or a thrown does-not-exist error. */
const ABSENT_EITHER_WAY = ABSENT_WAYS.slice(0, 2);
const TIMEOUT = [{ error: { code: PVS_REFUSAL_ERROR_CODES.ServerTimeout.code, message: PVS_REFUSAL_ERROR_CODES.ServerTimeout.message, terminating: true } }];

const REQUEST: RegisterVdiskRequest = {
  connectionServer: "pvs01.corp.example",
  port: 54321,
  vdiskName: "ws2022-apps-3.2.0",
  storeName: "Store-HQ",
  siteName: "HQ",
  description: "ws2022-pvs 3.2.0 (O'Brien's build)",
  writeCacheType: "device-ram-with-overflow-on-disk",
  writeCacheSizeMiB: 4096,
  accessMode: "production",
};
const DISK = { Name: REQUEST.vdiskName, SiteName: REQUEST.siteName, StoreName: REQUEST.storeName };

describe("PVS registration script in pwsh against the stub snap-in", { concurrency: 2 }, () => {
  it("a new vDisk: snap-in, connection, lookup, New-PvsDiskLocator on the copied VHDX (no single server), then the disk's write cache and LongDescription", async () => {
    const result = await run(registerVdiskScript(REQUEST));
    assertSucceeded(result);
    assert.deepEqual(result.calls, [
      { cmdlet: "Add-PSSnapin", parameters: { Name: ["Citrix.PVS.SnapIn"] } },
      { cmdlet: "Set-PvsConnection", parameters: { Name: "pvs01.corp.example", Port: "54321" } },
      { cmdlet: "Get-PvsDiskLocator", parameters: { Name: [DISK.Name], SiteName: [DISK.SiteName], StoreName: [DISK.StoreName] } },
      { cmdlet: "New-PvsDiskLocator", parameters: { ...DISK, Description: REQUEST.description, VHDX: true } },
      { cmdlet: "Set-PvsDisk", parameters: { ...DISK, WriteCacheType: 9, WriteCacheSize: 4096, LongDescription: REQUEST.description } },
    ]);
    assert.equal(resultLine(result).imported, true);
  });

  for (const [way, responses] of ABSENT_WAYS) {
    it(`a lookup that ${way} counts as absent: the locator is created`, async () => {
      const result = await run(registerVdiskScript(REQUEST), { "Get-PvsDiskLocator": responses(44) });
      assertSucceeded(result);
      assert.equal(callsTo(result, "New-PvsDiskLocator").length, 1);
    });
  }

  it("a lookup that fails for another reason (ServerTimeout) stops the script before anything is created", async () => {
    const result = await run(registerVdiskScript(REQUEST), { "Get-PvsDiskLocator": TIMEOUT });
    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /did not respond/);
    assert.deepEqual(cmdlets(result), ["Add-PSSnapin", "Set-PvsConnection", "Get-PvsDiskLocator"]);
  });

  it("a rerun finds the locator and only updates its description and the disk settings", async () => {
    const result = await run(registerVdiskScript(REQUEST), { "Get-PvsDiskLocator": [{ returns: [{ Name: REQUEST.vdiskName }] }] });
    assertSucceeded(result);
    assert.deepEqual(cmdlets(result).slice(3), ["Set-PvsDiskLocator", "Set-PvsDisk"]);
    assert.deepEqual(callsTo(result, "Set-PvsDiskLocator"), [{ ...DISK, Description: REQUEST.description }]);
    assert.equal(resultLine(result).imported, false);
  });

  const modes: [string, RegisterVdiskRequest["accessMode"], StubResponses, string[]][] = [
    ["maintenance: a maintenance version in front of the base", "maintenance", { "Get-PvsDiskVersion": [{ returns: [{ Version: 0, Access: 0 }] }] }, ["Get-PvsDiskVersion", "New-PvsDiskMaintenanceVersion"]],
    [
      "test: the new maintenance version is promoted to Test",
      "test",
      { "Get-PvsDiskVersion": [{ returns: [{ Version: 0, Access: 0 }] }, { returns: [{ Version: 0, Access: 0 }, { Version: 1, Access: 1 }] }] },
      ["Get-PvsDiskVersion", "New-PvsDiskMaintenanceVersion", "Get-PvsDiskVersion", "Invoke-PvsPromoteDiskVersion"],
    ],
    ["test, rerun: a Test version already there is left alone", "test", { "Get-PvsDiskVersion": [{ returns: [{ Version: 0, Access: 0 }, { Version: 1, Access: 7 }] }] }, ["Get-PvsDiskVersion", "Get-PvsDiskVersion"]],
  ];
  for (const [name, accessMode, responses, expected] of modes) {
    it(`access mode ${name}`, async () => {
      const result = await run(registerVdiskScript({ ...REQUEST, accessMode }), responses);
      assertSucceeded(result);
      assert.deepEqual(cmdlets(result).slice(5), expected);
      for (const call of result.calls.slice(5)) assert.deepEqual(Object.keys(call.parameters).sort(), [...Object.keys(DISK), ...(call.cmdlet === "Invoke-PvsPromoteDiskVersion" ? ["Test"] : [])].sort());
    });
  }

  it("unregister removes an existing locator, never its disk file", async () => {
    const result = await run(unregisterScript(REQUEST), { "Get-PvsDiskLocator": [{ returns: [{ Name: REQUEST.vdiskName }] }] });
    assertSucceeded(result);
    assert.deepEqual(callsTo(result, "Remove-PvsDiskLocator"), [{ Name: [DISK.Name], SiteName: [DISK.SiteName], StoreName: [DISK.StoreName] }]);
  });

  for (const [way, responses] of ABSENT_EITHER_WAY) {
    it(`unregister of a locator whose lookup ${way} succeeds without removing anything`, async () => {
      const result = await run(unregisterScript(REQUEST), { "Get-PvsDiskLocator": responses(44) });
      assertSucceeded(result);
      assert.deepEqual(callsTo(result, "Remove-PvsDiskLocator"), []);
    });
  }
});

const DEVICE = { connectionServer: "pvs01.corp.example", port: 54321, mac: "00-15-5D-01-02-03", deviceName: "HQ-TC-001", collectionName: "WS2022-Apps", siteName: "HQ", diskLocatorName: "ws2022-apps-3.0.2", storeName: "Store-HQ" };
const ASSIGN = { Name: [DEVICE.diskLocatorName], SiteName: [DEVICE.siteName], StoreName: [DEVICE.storeName], DeviceMac: [DEVICE.mac], RemoveExisting: true };

describe("PVS device scripts in pwsh against the stub snap-in", { concurrency: 2 }, () => {
  for (const [way, responses] of ABSENT_EITHER_WAY) {
    it(`create, when the MAC lookup ${way}: New-PvsDevice, then the vDisk assigned by MAC`, async () => {
      const result = await run(createDeviceScript(DEVICE), { "Get-PvsDevice": responses(43) });
      assertSucceeded(result);
      assert.deepEqual(cmdlets(result).slice(2), ["Get-PvsDevice", "New-PvsDevice", "Add-PvsDiskLocatorToDevice"]);
      assert.deepEqual(callsTo(result, "Get-PvsDevice"), [{ DeviceMac: [DEVICE.mac] }]);
      assert.deepEqual(callsTo(result, "New-PvsDevice"), [{ Name: DEVICE.deviceName, CollectionName: DEVICE.collectionName, SiteName: DEVICE.siteName, DeviceMac: DEVICE.mac }]);
      assert.deepEqual(callsTo(result, "Add-PvsDiskLocatorToDevice"), [ASSIGN]);
      assert.equal(resultLine(result).created, true);
    });
  }

  // The PvsDevice field is "Name or DeviceName" (docs/citrix-pvs-snapin-namespace.md): either may be the property.
  for (const property of ["Name", "DeviceName"]) {
    it(`create, when the device exists (its name in ${property}): no new device, the vDisk reassigned`, async () => {
      const result = await run(createDeviceScript(DEVICE), { "Get-PvsDevice": [{ returns: [{ [property]: DEVICE.deviceName, DeviceMac: DEVICE.mac }] }] });
      assertSucceeded(result);
      assert.deepEqual(cmdlets(result).slice(2), ["Get-PvsDevice", "Add-PvsDiskLocatorToDevice"]);
      assert.equal(resultLine(result).created, false);
    });
  }

  it("create refuses a MAC already registered under another name and changes nothing", async () => {
    const result = await run(createDeviceScript(DEVICE), { "Get-PvsDevice": [{ returns: [{ Name: "OTHER-01", DeviceMac: DEVICE.mac }] }] });
    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /is already device OTHER-01/);
    assert.deepEqual(cmdlets(result).slice(2), ["Get-PvsDevice"]);
  });

  it("delete looks the device up and removes it by the same MAC", async () => {
    const result = await run(deleteDeviceScript(DEVICE), { "Get-PvsDevice": [{ returns: [{ Name: "renamed-in-console", DeviceMac: DEVICE.mac }] }] });
    assertSucceeded(result);
    assert.deepEqual(callsTo(result, "Remove-PvsDevice"), [{ DeviceMac: [DEVICE.mac] }]);
  });

  for (const [way, responses] of ABSENT_EITHER_WAY) {
    it(`delete of a device whose lookup ${way} succeeds without removing anything`, async () => {
      const result = await run(deleteDeviceScript(DEVICE), { "Get-PvsDevice": responses(43) });
      assertSucceeded(result);
      assert.deepEqual(callsTo(result, "Remove-PvsDevice"), []);
    });
  }

  it("delete stops on a lookup that failed for another reason instead of calling the device gone", async () => {
    const result = await run(deleteDeviceScript(DEVICE), { "Get-PvsDevice": TIMEOUT });
    assert.notEqual(result.exitCode, 0);
  });
});

describe("PVS boot script in pwsh against the stub snap-in", () => {
  it("writes the login servers into each server's bootstrap file", async () => {
    const servers = [{ host: "pvs01.corp.example", ip: "10.0.10.11" }, { host: "pvs02.corp.example", ip: "10.0.10.12", port: 6911 }];
    const boot: SiteBootConfig = { method: "bdm", servers };
    const plan = planSiteBoot({ name: "HQ", server: "pvs01", collection: "WS2022-Apps", store: { name: "Store-HQ", location: "/mnt/hq" }, boot }, boot) as BootstrapPlan;
    const result = await run(bootstrapScript(plan, { server: "pvs01.corp.example", port: 54321 }));
    assertSucceeded(result);
    const bootstrap = { Name: "ARDBP32.BIN", Bootserver1_Ip: "10.0.10.11", Bootserver1_Port: 6910, Bootserver2_Ip: "10.0.10.12", Bootserver2_Port: 6911 };
    assert.deepEqual(callsTo(result, "Set-PvsServerBootstrap"), [{ ServerName: "pvs01.corp.example", ...bootstrap }, { ServerName: "pvs02.corp.example", ...bootstrap }]);
  });
});

describe("the stub snap-in refuses what PVS refuses", { concurrency: 2 }, () => {
  const refusals: [string, string, RegExp][] = [
    ["an unknown parameter (Set-PvsDisk has LongDescription, not Description)", "Set-PvsDisk -Name 'd' -SiteName 'HQ' -StoreName 'S' -Description 'x'", /parameter cannot be found that matches parameter name 'Description'/],
    ["a missing mandatory parameter (New-PvsDevice without DeviceMac)", "New-PvsDevice -Name 'TC-1' -CollectionName 'C' -SiteName 'HQ'", /missing mandatory parameters: DeviceMac/],
    ["a missing required group (Set-PvsDisk without Guid or Name)", "Set-PvsDisk -SiteName 'HQ' -StoreName 'S' -WriteCacheType 9", /The required Guid or Name parameter is missing/],
    ["a name without its resolution (DiskLocatorName without a store)", "Get-PvsDiskLocator -Name 'd' -SiteName 'HQ'", /To use the Name parameter, StoreId or StoreName must also be used/],
    ["a positional argument the reference gives no position", "Get-PvsDevice 'TC-1'", /positional parameter cannot be found/],
    ["a string over the reference's Max Length (a disk locator name of 53 characters)", `New-PvsDiskLocator -Name '${"a".repeat(53)}' -SiteName 'HQ' -StoreName 'S'`, /Cannot validate argument on parameter 'Name'/],
    ["a value of the wrong type (WriteCacheType is uint)", "Set-PvsDisk -Name 'd' -SiteName 'HQ' -StoreName 'S' -WriteCacheType 'ram'", /Cannot process argument transformation on parameter 'WriteCacheType'|Cannot convert value/],
  ];
  for (const [name, line, pattern] of refusals) {
    it(`refuses ${name} and records nothing`, async () => {
      const result = await run(`$ErrorActionPreference = 'Stop'\r\n${line}\r\n`);
      assert.notEqual(result.exitCode, 0);
      assert.match(result.stderr, pattern);
      assert.deepEqual(result.calls, []);
    });
  }
});
