import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CHUNK, PAGE_SIZE, RUN_HEADER_BYTES, nonZeroRuns, sparseCopy } from "../../src/distribute/sparse-copy.ts";
import { UNLIMITED, type Throttle } from "../../src/distribute/token-bucket.ts";
import { workspace } from "./fixtures.ts";

/** Runs `body` in a fresh directory, removed afterwards. */
async function inDirectory(body: (dir: string) => Promise<void>): Promise<void> {
  const ws = await workspace();
  try {
    await body(await ws.dir("copy"));
  } finally {
    await ws.cleanup();
  }
}

function recordingThrottle(): Throttle & { readonly taken: number[] } {
  const taken: number[] = [];
  return { taken, take: async (bytes) => void taken.push(bytes) };
}

test("nonZeroRuns: consecutive non-zero pages are one run, a short last page counts", () => {
  const data = Buffer.alloc(6 * PAGE_SIZE + 100);
  data[PAGE_SIZE + 5] = 1; // page 1
  data[2 * PAGE_SIZE + 7] = 1; // page 2: same run as page 1
  data[4 * PAGE_SIZE] = 1; // page 4 alone
  data[6 * PAGE_SIZE + 99] = 1; // the short tail page
  assert.deepEqual(nonZeroRuns(data), [
    { start: PAGE_SIZE, length: 2 * PAGE_SIZE },
    { start: 4 * PAGE_SIZE, length: PAGE_SIZE },
    { start: 6 * PAGE_SIZE, length: 100 },
  ]);
  assert.deepEqual(nonZeroRuns(Buffer.alloc(3 * PAGE_SIZE)), []);
});

test("sparseCopy writes each run once, leaves zero pages as holes, and counts a run across chunks once", () =>
  inDirectory(async (dir) => {
    // A run from the last page of chunk 0 into chunk 1, a lone page in chunk 1, zeros to the end.
    const data = Buffer.alloc(2 * CHUNK + 3 * PAGE_SIZE);
    data.fill(0xaa, CHUNK - PAGE_SIZE, CHUNK + 2 * PAGE_SIZE);
    data.fill(0x55, CHUNK + 10 * PAGE_SIZE, CHUNK + 11 * PAGE_SIZE);
    await writeFile(join(dir, "from"), data);
    const throttle = recordingThrottle();
    const stats = await sparseCopy(join(dir, "from"), join(dir, "to"), throttle);
    assert.ok((await readFile(join(dir, "to"))).equals(data));
    assert.equal(stats.runs, 2);
    assert.equal(stats.sentBytes, 4 * PAGE_SIZE + 2 * RUN_HEADER_BYTES);
    // One take per write: the first run is split at the chunk boundary, then the lone page.
    assert.deepEqual(throttle.taken, [PAGE_SIZE, 2 * PAGE_SIZE, PAGE_SIZE]);
    const written = await stat(join(dir, "to"));
    assert.equal(written.size, data.length);
    assert.ok(written.blocks * 512 < data.length, "the zero pages were not written");
  }));

test("sparseCopy of an empty file and of an all-zero file sends nothing", () =>
  inDirectory(async (dir) => {
    await writeFile(join(dir, "empty"), Buffer.alloc(0));
    await writeFile(join(dir, "zeros"), Buffer.alloc(CHUNK + 5));
    assert.deepEqual(await sparseCopy(join(dir, "empty"), join(dir, "empty.out"), UNLIMITED), { sentBytes: 0, runs: 0 });
    assert.deepEqual(await sparseCopy(join(dir, "zeros"), join(dir, "zeros.out"), UNLIMITED), { sentBytes: 0, runs: 0 });
    assert.ok((await readFile(join(dir, "zeros.out"))).equals(Buffer.alloc(CHUNK + 5)));
  }));
