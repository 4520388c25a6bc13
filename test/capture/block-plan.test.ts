import { test } from "node:test";
import assert from "node:assert/strict";
import { planBlocks } from "../../src/capture/block-plan.ts";
import type { AllocationMap } from "../../src/capture/allocation-map.ts";

const layers = [
  { path: "/d/top.qcow2", format: "qcow2", direct: true },
  { path: "/d/base.vmdk", format: "vmdk", direct: false },
];

const cases: { name: string; map: AllocationMap; blockSize: number; expected: ReturnType<typeof planBlocks> }[] = [
  {
    name: "an all-zero disk stores no block",
    map: { virtualSize: 400, layers, extents: [{ kind: "zero", start: 0, length: 400 }] },
    blockSize: 100,
    expected: [],
  },
  {
    name: "an extent spanning blocks is split at block boundaries with matching file offsets",
    map: {
      virtualSize: 400,
      layers,
      extents: [
        { kind: "zero", start: 0, length: 150 },
        { kind: "data", start: 150, length: 120, layer: 1, fileOffset: 1000 },
        { kind: "zero", start: 270, length: 130 },
      ],
    },
    blockSize: 100,
    expected: [
      { index: 1, pieces: [{ offsetInBlock: 50, length: 50, layer: 1, fileOffset: 1000 }] },
      { index: 2, pieces: [{ offsetInBlock: 0, length: 70, layer: 1, fileOffset: 1050 }] },
    ],
  },
  {
    name: "pieces from several layers share a block, those without a file offset keep none",
    map: {
      virtualSize: 250,
      layers,
      extents: [
        { kind: "data", start: 0, length: 10, layer: 0, fileOffset: 0 },
        { kind: "zero", start: 10, length: 10 },
        { kind: "data", start: 20, length: 10, layer: 1 },
        { kind: "zero", start: 30, length: 210 },
        { kind: "data", start: 240, length: 10, layer: 0, fileOffset: 64 },
      ],
    },
    blockSize: 100,
    expected: [
      { index: 0, pieces: [{ offsetInBlock: 0, length: 10, layer: 0, fileOffset: 0 }, { offsetInBlock: 20, length: 10, layer: 1 }] },
      { index: 2, pieces: [{ offsetInBlock: 40, length: 10, layer: 0, fileOffset: 64 }] },
    ],
  },
];

for (const { name, map, blockSize, expected } of cases) {
  test(name, () => {
    assert.deepEqual(planBlocks(map, blockSize), expected);
  });
}
