import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseRoute, type RouteInput } from "../../src/distribute/version-route.ts";

const base = { parentFile: "ws.vhdx", versionSize: 10, fullSize: 100 } as const;

const cases: { name: string; input: RouteInput; kind: "version" | "full"; reason: RegExp }[] = [
  { name: "a site with the parent and a small version gets the version", input: { ...base, parent: { kind: "present" } }, kind: "version", reason: /has the parent ws\.vhdx; the version is 10\.0%/ },
  { name: "a site without the parent gets the full vDisk", input: { ...base, parent: { kind: "missing" } }, kind: "full", reason: /has no ws\.vhdx/ },
  { name: "a site whose parent was replaced gets the full vDisk", input: { ...base, parent: { kind: "other", found: "DataWriteGuid {x}" } }, kind: "full", reason: /not the version's parent \(DataWriteGuid \{x\}\)/ },
  { name: "a version above the default half of the full vDisk falls back", input: { ...base, versionSize: 51, parent: { kind: "present" } }, kind: "full", reason: /51\.0% of the full vDisk, above the 50% limit/ },
  { name: "a version exactly at the limit still ships", input: { ...base, versionSize: 50, parent: { kind: "present" } }, kind: "version", reason: /50\.0%/ },
  { name: "a configured limit applies", input: { ...base, maxDeltaFraction: 0.05, parent: { kind: "present" } }, kind: "full", reason: /above the 5% limit/ },
];

for (const c of cases) {
  test(c.name, () => {
    const route = chooseRoute(c.input);
    assert.equal(route.kind, c.kind);
    assert.match(route.reason, c.reason);
  });
}
