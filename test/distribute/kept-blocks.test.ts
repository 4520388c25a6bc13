import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { computeBlockmap, firstBadBlock } from "../../src/distribute/blockmap.ts";
import { planDelta } from "../../src/distribute/delta-plan.ts";
import { buildOnFilesystem } from "../../src/distribute/filesystem-delta.ts";
import { copyKeptBlocks, keptBlockCopyFor } from "../../src/distribute/kept-blocks.ts";
import { UNLIMITED } from "../../src/distribute/token-bucket.ts";
import { content, sourceOf, TEST_BLOCK, workspace } from "./fixtures.ts";

const BLOCKS = 12;
const v1 = content(BLOCKS, (b) => b);
/** Blocks 2 and 7 changed, block 9 moved to 4's place. */
const v2 = content(BLOCKS, (b) => (b === 2 || b === 7 ? b + 1000 : b === 4 ? 9 : b));

async function inWorkspace(body: (dir: string) => Promise<void>): Promise<void> {
  const ws = await workspace();
  try {
    await body(await ws.dir("site"));
  } finally {
    await ws.cleanup();
  }
}

test("copyKeptBlocks copies only the kept blocks and returns those that reread as the target's", () =>
  inWorkspace(async (dir) => {
    const base = join(dir, "base.vhdx");
    await writeFile(base, v1);
    const source = await sourceOf(dir, "2", v2);
    const baseMap = await computeBlockmap(base, { blockSize: TEST_BLOCK });
    // The base's blockmap lies about block 5: it is "kept" but its bytes are not the target's.
    const lying = { ...baseMap, blocks: baseMap.blocks.map((h, i) => (i === 5 ? "0".repeat(64) : h)) };
    const target = { ...source.blockmap, blocks: source.blockmap.blocks.map((h, i) => (i === 5 ? "0".repeat(64) : h)) };
    const plan = planDelta(target, lying);
    const partial = join(dir, "partial");
    await writeFile(partial, Buffer.alloc(v2.length));
    const checked = await copyKeptBlocks(base, partial, plan, target);
    assert.deepEqual([...checked].sort((a, b) => a - b), [0, 1, 3, 6, 8, 9, 10, 11]);
    const written = await readFile(partial);
    for (const block of [0, 1, 3, 5, 6, 8, 9, 10, 11]) assert.ok(written.subarray(block * TEST_BLOCK, (block + 1) * TEST_BLOCK).equals(v1.subarray(block * TEST_BLOCK, (block + 1) * TEST_BLOCK)), `block ${block}`);
    for (const block of [2, 4, 7]) assert.ok(written.subarray(block * TEST_BLOCK, (block + 1) * TEST_BLOCK).equals(Buffer.alloc(TEST_BLOCK)), `block ${block} is not copied`);
  }));

for (const keptBlocks of ["kernel", "blocks"] as const) {
  test(`building from a base with the ${keptBlocks} copy gives the new file; only the block copy reports blocks already checked`, () =>
    inWorkspace(async (dir) => {
      await writeFile(join(dir, "ws2022-1.0.0.vhdx"), v1);
      const baseMap = await computeBlockmap(join(dir, "ws2022-1.0.0.vhdx"), { blockSize: TEST_BLOCK });
      const source = await sourceOf(join(dir, ".."), "1.1.0", v2);
      const built = await buildOnFilesystem({ dir, partial: ".partial", journal: ".journal", source, base: { name: "ws2022-1.0.0", blockmap: baseMap }, throttle: UNLIMITED, keptBlocks });
      assert.ok((await readFile(join(dir, ".partial"))).equals(v2));
      assert.deepEqual(built.stats, { sentBytes: 2 * TEST_BLOCK, localBytes: TEST_BLOCK, resumedBytes: 0 });
      assert.deepEqual([...built.checked].sort((a, b) => a - b), keptBlocks === "blocks" ? [0, 1, 3, 5, 6, 8, 9, 10, 11] : []);
      assert.equal(await firstBadBlock(join(dir, ".partial"), source.blockmap, { checked: built.checked }), undefined);
      assert.ok((await readdir(dir)).includes("ws2022-1.0.0.vhdx"), "the base stays");
    }));
}

test("firstBadBlock does not reread blocks the caller already checked, and still finds the others", () =>
  inWorkspace(async (dir) => {
    const path = join(dir, "file");
    await writeFile(path, v1);
    const map = await computeBlockmap(path, { blockSize: TEST_BLOCK });
    const changed = Buffer.from(v1);
    changed[3 * TEST_BLOCK]! ^= 1;
    changed[8 * TEST_BLOCK]! ^= 1;
    await writeFile(path, changed);
    assert.equal((await firstBadBlock(path, map, { checked: new Set([3]) }))?.index, 8);
    assert.equal(await firstBadBlock(path, map, { checked: new Set([3, 8]) }), undefined);
    assert.equal((await firstBadBlock(path, map))?.index, 3);
  }));

test("the block copy is chosen only on filesystems whose kernel copy is a page-cache copy", async () => {
  // procfs (PROC_SUPER_MAGIC 0x9fa0, include/uapi/linux/magic.h) is neither ext4 nor tmpfs.
  assert.equal(await keptBlockCopyFor("/proc"), "kernel");
  assert.equal(await keptBlockCopyFor("/no/such/dir"), "kernel");
});
