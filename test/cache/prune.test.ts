import { test } from "node:test";
import assert from "node:assert/strict";
import { selectForPrune, type CacheItem } from "../../src/cache/prune.ts";
import { parseDuration, parseSize, UnitError } from "../../src/cache/units.ts";

const DAY = 86_400_000;
const now = new Date("2026-03-01T00:00:00Z");
const ago = (days: number) => new Date(now.getTime() - days * DAY);

// Two chains sharing the OS layer: os <- a1 <- a2 (old) and os <- b1 (new); plus one download.
const items: CacheItem[] = [
  { id: "os", size: 100, created: ago(10), parent: null },
  { id: "a1", size: 10, created: ago(9), parent: "os" },
  { id: "a2", size: 10, created: ago(9), parent: "a1" },
  { id: "b1", size: 10, created: ago(1), parent: "os" },
  { id: "dl", size: 50, created: ago(20) },
];

const cases: readonly { name: string; policy: Parameters<typeof selectForPrune>[1]; remove: string[] }[] = [
  { name: "no limit keeps everything", policy: {}, remove: [] },
  { name: "--all removes everything", policy: { all: true }, remove: ["os", "a1", "a2", "b1", "dl"] },
  { name: "--older-than keeps the shared parent of a recent chain", policy: { olderThanMs: 7 * DAY }, remove: ["a1", "a2", "dl"] },
  { name: "--max-size keeps the newest chains that fit", policy: { maxSizeBytes: 125 }, remove: ["a1", "a2", "dl"] },
  { name: "--max-size too small for the newest chain removes everything", policy: { maxSizeBytes: 50 }, remove: ["os", "a1", "a2", "b1", "dl"] },
  { name: "--max-size counts shared layers once", policy: { maxSizeBytes: 130 }, remove: ["dl"] },
];

for (const c of cases) {
  test(`prune: ${c.name}`, () => {
    const { keep, remove } = selectForPrune(items, c.policy, now);
    assert.deepEqual([...remove].sort(), [...c.remove].sort());
    // Never a kept layer whose parent goes.
    for (const id of keep) {
      const parent = items.find((i) => i.id === id)?.parent;
      if (parent) assert.ok(keep.includes(parent), `${id} is kept but its parent ${parent} is not`);
    }
  });
}

test("sizes and durations parse as on the command line, and bad ones say what to write", () => {
  assert.equal(parseSize("20G"), 20 * 1024 ** 3);
  assert.equal(parseSize("512M"), 512 * 1024 ** 2);
  assert.equal(parseDuration("7d"), 7 * DAY);
  assert.equal(parseDuration("30m"), 30 * 60_000);
  assert.throws(() => parseSize("lots"), (e: Error) => e instanceof UnitError && e.message.includes("e.g. 20G"));
  assert.throws(() => parseDuration("7 days"), (e: Error) => e instanceof UnitError && e.message.includes("e.g. 30m or 7d"));
});
