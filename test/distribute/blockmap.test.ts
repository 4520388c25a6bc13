import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BlockmapError, blockmapName, computeBlockmap, firstBadBlock, formatBlockmap, parseBlockmap } from "../../src/distribute/blockmap.ts";
import { content, TEST_BLOCK, workspace } from "./fixtures.ts";

/** Three whole test blocks and a short one, written and indexed. */
async function indexedFile(root: string) {
  const data = content(3, (b) => b, 1000);
  const path = join(root, "a.vhdx");
  await writeFile(path, data);
  return { data, path, map: await computeBlockmap(path, { blockSize: TEST_BLOCK }) };
}

test("a blockmap holds one sha256 per block, the short last block included, and the whole file's sha256", async () => {
  const ws = await workspace();
  try {
    const { data, map } = await indexedFile(ws.root);
    assert.equal(map.blocks.length, 4);
    assert.equal(map.sha256, createHash("sha256").update(data).digest("hex"));
    assert.equal(map.blocks[3], createHash("sha256").update(data.subarray(3 * TEST_BLOCK)).digest("hex"));
    assert.deepEqual(parseBlockmap(formatBlockmap(map), "a.blockmap"), map);
  } finally {
    await ws.cleanup();
  }
});

for (const [name, change, expected] of [
  ["the same bytes", (d: Buffer) => d, undefined],
  ["one byte changed in the third block", (d: Buffer) => { const c = Buffer.from(d); c[2 * TEST_BLOCK + 5] = c[2 * TEST_BLOCK + 5]! ^ 1; return c; }, 2],
  ["one byte changed in the short last block", (d: Buffer) => { const c = Buffer.from(d); c[c.length - 1] = c[c.length - 1]! ^ 1; return c; }, 3],
  ["a byte missing at the end", (d: Buffer) => d.subarray(0, d.length - 1), -1],
] as const) {
  test(`checking a file against a blockmap: ${name}`, async () => {
    const ws = await workspace();
    try {
      const { data, path, map } = await indexedFile(ws.root);
      await writeFile(path, change(data));
      assert.equal((await firstBadBlock(path, map))?.index, expected);
    } finally {
      await ws.cleanup();
    }
  });
}

test("an empty file has no blocks", async () => {
  const ws = await workspace();
  try {
    await writeFile(join(ws.root, "e.vhdx"), "");
    const map = await computeBlockmap(join(ws.root, "e.vhdx"), { blockSize: TEST_BLOCK });
    assert.deepEqual(map.blocks, []);
    assert.deepEqual(parseBlockmap(formatBlockmap(map), "e.blockmap"), map);
  } finally {
    await ws.cleanup();
  }
});

for (const [name, text] of [
  ["not JSON", "hello\n"],
  ["another format", `${JSON.stringify({ format: "x", blockSize: 1, size: 1, sha256: "a", blocks: 1 })}\n${"0".repeat(64)}\n`],
  ["truncated", `${JSON.stringify({ format: "rebake-blockmap/1", blockSize: 4, size: 8, sha256: "a", blocks: 2 })}\n${"0".repeat(64)}\n`],
] as const) {
  test(`a damaged blockmap (${name}) is refused with the fix`, () => {
    assert.throws(() => parseBlockmap(text, "x.blockmap"), (e: unknown) => e instanceof BlockmapError && /x\.blockmap/.test(e.message) && /rerun/.test(e.message));
  });
}

test("the blockmap of a vDisk sits beside it under the vDisk's name", () => {
  assert.equal(blockmapName("ws2022-3.2.0.vhdx"), "ws2022-3.2.0.blockmap");
});

test("every block hash is its own block's, with more blocks than hashes in flight (read buffers are reused)", async () => {
  const ws = await workspace();
  try {
    const data = content(40, (b) => b * 7, 321);
    const path = join(ws.root, "many.vhdx");
    await writeFile(path, data);
    const map = await computeBlockmap(path, { blockSize: TEST_BLOCK });
    const expected = Array.from({ length: 41 }, (_, b) => createHash("sha256").update(data.subarray(b * TEST_BLOCK, (b + 1) * TEST_BLOCK)).digest("hex"));
    assert.deepEqual(map.blocks, expected);
    assert.equal(await firstBadBlock(path, map), undefined);
  } finally {
    await ws.cleanup();
  }
});
