import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { psQuote } from "../../src/pvs/quote.ts";
import { registerVdiskScript, type RegisterVdiskRequest } from "../../src/pvs/register-script.ts";

const BASE: RegisterVdiskRequest = {
  connectionServer: "pvs01.corp.example",
  port: 54321,
  vdiskName: "ws2022-apps-3.2.0",
  storeName: "Store-HQ",
  siteName: "HQ",
  description: "ws2022-pvs 3.2.0 (build 20250101)",
  writeCacheType: "device-ram-with-overflow-on-disk",
  writeCacheSizeMiB: 4096,
  accessMode: "production",
};

/** What the script does is tested in pwsh against the stub snap-in (pvs-scripts-stub.test.ts); here, quoting. */
describe("PVS register script", () => {
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
