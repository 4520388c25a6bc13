import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { psQuote } from "../../src/pvs/quote.ts";
import { registerVdiskScript } from "../../src/pvs/register-script.ts";
import { pvsCalls, type PvsCall } from "../support/pvs-calls.ts";
import { assertSnapshot } from "../support/snapshot.ts";
import { ACCESS_MODES, BASE, registerSnapshot } from "./register-script.snapshots.ts";

const DISK = { DiskLocatorName: "ws2022-apps-3.2.0", StoreName: "Store-HQ", SiteName: "HQ" };
/** Every mode: connect, import the VHDX only when PVS does not know it, set its write cache (type 9: RAM with overflow on disk). */
const IMPORT: PvsCall[] = [
  { cmdlet: "Set-PvsConnection", params: { Server: "pvs01.corp.example", Port: "54321" } },
  { cmdlet: "Get-PvsDiskInfo", params: { ...DISK, ErrorAction: "SilentlyContinue" } },
  { cmdlet: "Import-PvsDisk", params: { Name: "ws2022-apps-3.2.0", StoreName: "Store-HQ", SiteName: "HQ", ServerName: "pvs01.corp.example", VHDX: true } },
  { cmdlet: "Set-PvsDisk", params: { Name: "ws2022-apps-3.2.0", StoreName: "Store-HQ", SiteName: "HQ", WriteCacheType: "9", WriteCacheSize: "4096", Description: "ws2022-pvs 3.2.0 (build 20250101)" } },
];
const MAINTENANCE_VERSION: PvsCall[] = [
  { cmdlet: "Get-PvsDiskVersion", params: DISK },
  { cmdlet: "New-PvsDiskMaintenanceVersion", params: DISK },
];
/** What each access mode adds: production serves the imported base; maintenance opens a version; test promotes it to test. */
const AFTER_IMPORT: Readonly<Record<(typeof ACCESS_MODES)[number], PvsCall[]>> = {
  production: [],
  maintenance: MAINTENANCE_VERSION,
  test: [...MAINTENANCE_VERSION, { cmdlet: "Get-PvsDiskVersion", params: DISK }, { cmdlet: "Invoke-PvsPromoteDiskVersion", params: { ...DISK, Test: true } }],
};

describe("PVS register script", () => {
  for (const accessMode of ACCESS_MODES) {
    it(`matches the snapshot for access mode ${accessMode}, and runs the cmdlets that mode needs in order`, async () => {
      const script = await assertSnapshot(registerSnapshot(accessMode));
      assert.deepEqual(pvsCalls(script), [...IMPORT, ...AFTER_IMPORT[accessMode]]);
      assert.match(script.trimEnd().split("\n").at(-1) ?? "", new RegExp(`^Write-Output \\('REBAKE-RESULT ' .*accessMode = '${accessMode}'`));
    });
  }

  const quoting = [
    { value: "plain", expected: "'plain'" },
    { value: "O'Brien's", expected: "'O''Brien''s'" },
    { value: "$(Remove-Item C:\\ -Recurse)", expected: "'$(Remove-Item C:\\ -Recurse)'" },
    { value: "it\u2019s", expected: "'it\u2019\u2019s'" },
  ];
  for (const { value, expected } of quoting) {
    it(`quotes ${JSON.stringify(value)} as a literal PowerShell string`, () => assert.equal(psQuote(value), expected));
  }

  it("puts hostile names into the script only as quoted literals", () => {
    const script = registerVdiskScript({ ...BASE, description: "x'; Remove-Item C:\\ -Recurse; '" });
    assert.match(script, /-Description 'x''; Remove-Item C:\\ -Recurse; '''/);
  });
});
