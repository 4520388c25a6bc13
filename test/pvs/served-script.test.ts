/**
 * The status script (what PVS has registered) runs in real PowerShell against the stub snap-in
 * generated from Citrix's reference (test/support/pvs-stub.ts): every parameter it passes must be
 * one the reference lists, and its JSON must parse back into the sites, vDisks and versions the
 * stubs answered. The stubs keep no state, so each Get answers call by call.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PowerShellError } from "../../src/pvs/executor.ts";
import { parseRegisteredVdisks, registeredVdisksScript } from "../../src/pvs/served-script.ts";
import { PVS_REFUSAL_ERROR_CODES } from "../support/pvs-cmdlets.ts";
import { PVS_STUB_MODULE } from "../support/pvs-stub.ts";
import { runWithStub } from "../support/pwsh.ts";

const CONNECTION = { server: "pvs01.corp.example", port: 54321 };
const versions = (...list: [number, number][]) => ({ returns: list.map(([Version, Access]) => ({ Version, Access })) });

describe("the PVS status script in pwsh against the stub snap-in", { concurrency: 2 }, () => {
  it("lists each site's disk locators with their versions and access, by name within the site and store", async () => {
    const script = registeredVdisksScript(CONNECTION, [{ siteName: "HQ", storeName: "Store-HQ" }, { siteName: "Lyon", storeName: "Store-LYO" }]);
    const result = await runWithStub(PVS_STUB_MODULE, script, {
      // The reference names the property "Name or DiskLocatorName": one site answers with each.
      "Get-PvsDiskLocator": [{ returns: [{ Name: "ws2022-apps-3.2.0" }, { Name: "ws2022-apps-3.0.2" }] }, { returns: [{ DiskLocatorName: "ws2022" }] }],
      "Get-PvsDiskVersion": [versions([0, 0], [1, 7]), versions([0, 0]), versions([0, 0], [1, 0], [2, 1])],
    });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(result.calls.map((c) => [c.cmdlet, c.parameters]), [
      ["Add-PSSnapin", { Name: ["Citrix.PVS.SnapIn"] }],
      ["Set-PvsConnection", { Name: "pvs01.corp.example", Port: "54321" }],
      ["Get-PvsDiskLocator", { SiteName: ["HQ"], StoreName: ["Store-HQ"] }],
      ["Get-PvsDiskVersion", { Name: ["ws2022-apps-3.2.0"], SiteName: ["HQ"], StoreName: ["Store-HQ"] }],
      ["Get-PvsDiskVersion", { Name: ["ws2022-apps-3.0.2"], SiteName: ["HQ"], StoreName: ["Store-HQ"] }],
      ["Get-PvsDiskLocator", { SiteName: ["Lyon"], StoreName: ["Store-LYO"] }],
      ["Get-PvsDiskVersion", { Name: ["ws2022"], SiteName: ["Lyon"], StoreName: ["Store-LYO"] }],
    ]);
    assert.deepEqual(parseRegisteredVdisks(result.stdout, "test"), [
      { siteName: "HQ", storeName: "Store-HQ", vdisks: [{ name: "ws2022-apps-3.2.0", versions: [{ version: 0, access: 0 }, { version: 1, access: 7 }] }, { name: "ws2022-apps-3.0.2", versions: [{ version: 0, access: 0 }] }] },
      { siteName: "Lyon", storeName: "Store-LYO", vdisks: [{ name: "ws2022", versions: [{ version: 0, access: 0 }, { version: 1, access: 0 }, { version: 2, access: 1 }] }] },
    ]);
  });

  it("a site PVS refuses is reported with PVS's message and the next site is still read; a site with no vDisks is an empty list", async () => {
    const script = registeredVdisksScript(CONNECTION, [{ siteName: "Gone", storeName: "Store-X" }, { siteName: "Empty", storeName: "Store-E" }]);
    const { code, message } = PVS_REFUSAL_ERROR_CODES.ServerTimeout;
    const result = await runWithStub(PVS_STUB_MODULE, script, { "Get-PvsDiskLocator": [{ error: { code, message, terminating: true } }, { returns: [] }] });
    assert.equal(result.exitCode, 0, result.stderr);
    const [gone, empty] = parseRegisteredVdisks(result.stdout, "test");
    assert.match((gone as { error: string }).error, new RegExp(message.slice(0, 20)));
    assert.deepEqual(empty, { siteName: "Empty", storeName: "Store-E", vdisks: [] });
  });

  it("a store whose lookup says 'does not exist' (NotFound, 98) has no vDisks, terminating or not", async () => {
    const script = registeredVdisksScript(CONNECTION, [{ siteName: "HQ", storeName: "Store-HQ" }, { siteName: "Lyon", storeName: "Store-LYO" }]);
    const notFound = (terminating: boolean) => ({ error: { code: 98, message: "Store-HQ not found.", terminating } });
    const result = await runWithStub(PVS_STUB_MODULE, script, { "Get-PvsDiskLocator": [notFound(true), notFound(false)] });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(parseRegisteredVdisks(result.stdout, "test").map((site) => "vdisks" in site && site.vdisks), [[], []]);
  });

  it("names are single-quoted literals, so a quote in a name cannot end the string", () => {
    assert.match(registeredVdisksScript(CONNECTION, [{ siteName: "O'Brien", storeName: "S" }]), /-SiteName 'O''Brien' -StoreName 'S'/);
  });
});

describe("reading the status script's output", () => {
  const cases: [string, string, RegExp][] = [
    ["no result line", "WARNING: something\n", /printed no result line/],
    ["a result line that is not JSON", "REBAKE-RESULT {nope\n", /not JSON/],
    ["no sites", 'REBAKE-RESULT {"x":1}\n', /printed no sites/],
    ["a version without its access", 'REBAKE-RESULT {"sites":[{"siteName":"HQ","storeName":"S","vdisks":[{"name":"d","versions":[{"version":0}]}]}]}\n', /vDisks of site HQ in an unknown shape/],
  ];
  for (const [name, stdout, message] of cases) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseRegisteredVdisks(stdout, "pvs01"), (error: unknown) => error instanceof PowerShellError && message.test(error.message));
    });
  }
});
