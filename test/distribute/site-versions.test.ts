import { test } from "node:test";
import assert from "node:assert/strict";
import { compareVersions, otherVersions } from "../../src/distribute/site-versions.ts";

test("the newest other version of the same image comes first; other images and temp files are ignored", () => {
  const names = ["ws2022-3.9.1.vhdx", "ws2022-3.10.0.vhdx", "ws2022-3.11.0.vhdx", "win11-9.0.0.vhdx", ".ws2022-3.12.0.vhdx.sync-partial", "ws2022-3.10.0.blockmap", "ws2022-3.12.0.vhdx"];
  assert.deepEqual(otherVersions(names, "ws2022", "ws2022-3.12.0"), ["ws2022-3.11.0", "ws2022-3.10.0", "ws2022-3.9.1"]);
});

for (const [a, b, sign] of [["3.10.0", "3.9.9", 1], ["1.0.0", "1.0.0", 0], ["1.0", "1.0.1", -1], ["2.0.0-rc1", "2.0.0-rc2", -1]] as const) {
  test(`version ${a} vs ${b}`, () => assert.equal(Math.sign(compareVersions(a, b)), sign));
}
