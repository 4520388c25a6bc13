import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { psQuote } from "../../src/util/ps-quote.ts";
import { registerVdiskScript, type RegisterVdiskRequest } from "../../src/pvs/register-script.ts";

const SNAPSHOTS = fileURLToPath(new URL("./snapshots/", import.meta.url));

const BASE: RegisterVdiskRequest = {
  connectionServer: "pvs01.corp.example",
  port: 54321,
  vdiskName: "ws2022-apps-3.2.0",
  storeName: "Store-HQ",
  siteName: "HQ",
  serverName: "pvs01.corp.example",
  description: "ws2022-pvs 3.2.0 (build 20250101)",
  writeCacheType: "device-ram-with-overflow-on-disk",
  writeCacheSizeMiB: 4096,
  accessMode: "production",
};

/** Compares with the stored snapshot; UPDATE_SNAPSHOTS=1 rewrites it. */
async function matchSnapshot(name: string, actual: string): Promise<void> {
  const path = `${SNAPSHOTS}${name}`;
  if (process.env.UPDATE_SNAPSHOTS) await writeFile(path, actual);
  assert.equal(actual, await readFile(path, "utf8"));
}

describe("PVS register script", () => {
  for (const accessMode of ["maintenance", "test", "production"] as const) {
    it(`matches the snapshot for access mode ${accessMode}`, async () => {
      await matchSnapshot(`register-${accessMode}.ps1`, registerVdiskScript({ ...BASE, accessMode }));
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
