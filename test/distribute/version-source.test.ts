import { test } from "node:test";
import assert from "node:assert/strict";
import type { SyncSource } from "../../src/distribute/model.ts";
import { VERSION_RECORD_FORMAT, type VersionRecord } from "../../src/distribute/version-record.ts";
import { indexedFullVdisk, versionSourceOf } from "../../src/distribute/version-sync.ts";
import { PROPERTIES } from "../stores/fixtures.ts";

const record: VersionRecord = {
  format: VERSION_RECORD_FORMAT,
  vdisk: "ws2022-1.0.0",
  number: 2,
  path: "ws2022-1.0.0.2.avhdx",
  sha256: "a".repeat(64),
  size: 8 * 1024 * 1024,
  parentFile: "ws2022-1.0.0.1.avhdx",
  parentPath: "../out-1/ws2022-1.0.0.1.avhdx",
  parentSha256: "b".repeat(64),
  parentLinkage: "{00000000-0000-0000-0000-000000000001}",
  method: "layers",
  methodReason: "test",
};
const full: SyncSource = {
  path: "/builds/out-2/ws2022.vhdx",
  vdisk: "ws2022-1.2.0",
  family: "ws2022",
  blockmap: { format: "rebake-blockmap/1", blockSize: 2 * 1024 * 1024, size: 4096, sha256: "c".repeat(64), blocks: ["d".repeat(64)] },
  properties: PROPERTIES,
};

test("versionSourceOf indexes the full vDisk only when asked, and once for every site that asks", async () => {
  let calls = 0;
  const source = versionSourceOf(record, "/builds/out-2/manifest.json", {
    vdisk: full.vdisk,
    size: 4096,
    index: async () => {
      calls++;
      return full;
    },
  });
  assert.equal(calls, 0);
  assert.equal(source.path, "/builds/out-2/ws2022-1.0.0.2.avhdx");
  assert.equal(source.file, "ws2022-1.0.0.2.avhdx");
  assert.deepEqual({ vdisk: source.full.vdisk, size: source.full.size }, { vdisk: "ws2022-1.2.0", size: 4096 });
  const [a, b] = await Promise.all([source.full.index(), source.full.index()]);
  assert.equal(a, full);
  assert.equal(b, full);
  assert.equal(calls, 1);
});

test("indexedFullVdisk wraps a source already indexed", async () => {
  const wrapped = indexedFullVdisk(full);
  assert.deepEqual({ vdisk: wrapped.vdisk, size: wrapped.size }, { vdisk: "ws2022-1.2.0", size: 4096 });
  assert.equal(await wrapped.index(), full);
});
