import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { psQuote } from "../../src/pvs/quote.ts";
import { diskLocatorProblems, registerVdiskScript, type RegisterVdiskRequest } from "../../src/pvs/register-script.ts";

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

describe("disk locator limits (New-PvsDiskLocator, docs/cmdlets.md)", () => {
  const cases: [string, string, string, RegExp | undefined][] = [
    ["52 ASCII characters and a 250-character description pass", "a".repeat(52), "d".repeat(250), undefined],
    ["a 53-character name is refused", "a".repeat(53), "d", /has 53 characters; PVS takes at most 52/],
    ["a non-ASCII name is refused", "zürich-3.2.0", "d", /outside printable ASCII/],
    ["a 251-character description is refused", "ws2022-3.2.0", "d".repeat(251), /description has 251 characters; PVS takes at most 250/],
  ];
  for (const [name, vdisk, description, problem] of cases) {
    it(name, () => {
      const problems = diskLocatorProblems(vdisk, description);
      if (problem) assert.match(problems.join("\n"), problem);
      else assert.deepEqual(problems, []);
    });
  }
});
