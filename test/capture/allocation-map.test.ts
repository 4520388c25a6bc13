import { test } from "node:test";
import assert from "node:assert/strict";
import { createRecordingExec } from "../../src/util/exec.ts";
import {
  AllocationMapError,
  UnsupportedSourceError,
  parseMap,
  readAllocationMap,
  type SourceLayer,
} from "../../src/capture/allocation-map.ts";

const chain: SourceLayer[] = [
  { path: "/d/top.qcow2", format: "qcow2", direct: true },
  { path: "/d/base.vmdk", format: "vmdk", direct: false },
];
const map = (entries: object[]) => JSON.stringify(entries);

test("map extents become merged zero runs and data with its layer, and a file offset only where the layer file holds it plainly", () => {
  const extents = parseMap(
    map([
      { start: 0, length: 100, depth: 1, present: false, zero: true, data: false },
      { start: 100, length: 50, depth: 0, present: true, zero: true, data: false },
      { start: 150, length: 50, depth: 1, present: true, zero: false, data: true, offset: 4096 },
      { start: 200, length: 28, depth: 0, present: true, zero: false, data: true, offset: 8192 },
      { start: 228, length: 28, depth: 0, present: true, zero: false, data: true },
    ]),
    chain,
    256,
  );
  assert.deepEqual(extents, [
    { kind: "zero", start: 0, length: 150 },
    { kind: "data", start: 150, length: 50, layer: 1 },
    { kind: "data", start: 200, length: 28, layer: 0, fileOffset: 8192 },
    { kind: "data", start: 228, length: 28, layer: 0 },
  ]);
});

const badMaps = [
  { name: "a gap between extents", entries: [{ start: 0, length: 100, depth: 0, zero: true, data: false }, { start: 120, length: 136, depth: 0, zero: true, data: false }], error: AllocationMapError, message: /not contiguous at 100/ },
  { name: "a map shorter than the disk", entries: [{ start: 0, length: 100, depth: 0, zero: true, data: false }], error: AllocationMapError, message: /covered 100 bytes of a 256-byte disk/ },
  { name: "a layer deeper than the chain", entries: [{ start: 0, length: 256, depth: 2, zero: false, data: true, offset: 0 }], error: AllocationMapError, message: /layer 2/ },
];
for (const { name, entries, error, message } of badMaps) {
  test(`a map with ${name} is refused`, () => {
    assert.throws(() => parseMap(map(entries), chain, 256), (thrown: unknown) => thrown instanceof error && message.test((thrown as Error).message));
  });
}

test("the allocation map asks qemu-img for the chain, then maps the top layer in its own format", async () => {
  const exec = createRecordingExec((_command, args) => {
    if (args[0] === "info") {
      return {
        stdout: JSON.stringify([
          { filename: "/d/top.qcow2", format: "qcow2", "virtual-size": 256 },
          { filename: "/d/base.raw", format: "raw", "virtual-size": 256 },
        ]),
      };
    }
    return { stdout: map([{ start: 0, length: 256, depth: 1, zero: false, data: true, offset: 0 }]) };
  });
  const result = await readAllocationMap(exec, { path: "/d/top.qcow2" });
  assert.deepEqual(exec.calls.map((call) => [call.command, ...call.args]), [
    ["qemu-img", "info", "--backing-chain", "--output=json", "/d/top.qcow2"],
    ["qemu-img", "map", "--output=json", "-f", "qcow2", "/d/top.qcow2"],
  ]);
  assert.deepEqual(result.layers, [{ path: "/d/top.qcow2", format: "qcow2", direct: true }, { path: "/d/base.raw", format: "raw", direct: true }]);
  assert.equal(result.virtualSize, 256);
});

const indirectLayers = [
  { name: "a vmdk layer", info: { filename: "/d/a.vmdk", format: "vmdk", "virtual-size": 256 } },
  { name: "a qcow2 layer with an external data file", info: { filename: "/d/a.qcow2", format: "qcow2", "virtual-size": 256, "format-specific": { data: { "data-file": "/d/a.data" } } } },
];
for (const { name, info } of indirectLayers) {
  test(`${name} is read through qemu, not from its file`, async () => {
    const exec = createRecordingExec((_command, args) => ({
      stdout: args[0] === "info" ? JSON.stringify([info]) : map([{ start: 0, length: 256, depth: 0, zero: false, data: true, offset: 0 }]),
    }));
    const result = await readAllocationMap(exec, { path: "/d/a" });
    assert.equal(result.layers[0]!.direct, false);
    assert.deepEqual(result.extents, [{ kind: "data", start: 0, length: 256, layer: 0 }]);
  });
}

test("an encrypted layer is refused before any data is read", async () => {
  const exec = createRecordingExec(() => ({ stdout: JSON.stringify([{ filename: "/d/a.qcow2", format: "qcow2", "virtual-size": 256, encrypted: true }]) }));
  await assert.rejects(readAllocationMap(exec, { path: "/d/a" }), (error: unknown) => error instanceof UnsupportedSourceError && /encrypted.*qemu-img convert/.test(error.message));
  assert.equal(exec.calls.length, 1);
});
