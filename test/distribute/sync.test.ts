import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { blockmapName, computeBlockmap, formatBlockmap } from "../../src/distribute/blockmap.ts";
import type { SyncEvent } from "../../src/distribute/model.ts";
import { syncAll } from "../../src/distribute/sync.ts";
import { syncSite } from "../../src/distribute/sync-site.ts";
import { TokenBucket, UNLIMITED, type Clock, type Throttle } from "../../src/distribute/token-bucket.ts";
import { parseSidecarContent } from "../../src/stores/vdisk-sidecar.ts";
import { content, sourceOf, TEST_BLOCK, workspace } from "./fixtures.ts";

const BLOCKS = 40;
const v1 = content(BLOCKS, (b) => b, 123);
/** 3 of 40 blocks changed, and the file grew by one block. */
const v2 = content(BLOCKS + 1, (b) => ([5, 17, 30].includes(b) ? b + 1000 : b), 123);
const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

test("sync to empty sites sends the whole file; a rerun skips every site without reading the vDisk", async () => {
  const ws = await workspace();
  try {
    const source = await sourceOf(await ws.dir("src"), "1.0.0", v1);
    const sites = await Promise.all(["a", "b", "c"].map(async (name) => ({ name, location: await ws.dir(name) })));
    const first = await syncAll(source, sites, { concurrency: 2 });
    assert.deepEqual(first.map((r) => r.status), ["full", "full", "full"]);
    for (const site of sites) {
      assert.equal(sha(await readFile(join(site.location, "ws2022-1.0.0.vhdx"))), source.blockmap.sha256);
      assert.equal(parseSidecarContent(await readFile(join(site.location, "ws2022-1.0.0.rebake.ini"), "utf8"))?.sha256, source.blockmap.sha256);
      assert.deepEqual((await readdir(site.location)).sort(), ["ws2022-1.0.0.blockmap", "ws2022-1.0.0.rebake.ini", "ws2022-1.0.0.vhdx"]);
    }
    const second = await syncAll(source, sites, { concurrency: 3 });
    assert.deepEqual(second.map((r) => [r.status, r.sentBytes]), [["skipped", 0], ["skipped", 0], ["skipped", 0]]);
  } finally {
    await ws.cleanup();
  }
});

test("a new version is built from the site's newest version: only changed blocks are sent", async () => {
  const ws = await workspace();
  try {
    const src = await ws.dir("src");
    const site = { name: "lyon", location: await ws.dir("lyon") };
    await syncAll(await sourceOf(src, "0.9.0", content(BLOCKS, () => 7)), [site]);
    await syncAll(await sourceOf(src, "1.0.0", v1), [site]);
    const events: SyncEvent[] = [];
    const [result] = await syncAll(await sourceOf(src, "1.1.0", v2), [site], { onEvent: (e) => events.push(e) });
    assert.equal(result?.status, "delta");
    assert.equal(result?.base, "ws2022-1.0.0");
    // The 3 changed blocks, plus the old short tail block and the new last block.
    assert.equal(result?.sentBytes, 3 * TEST_BLOCK + TEST_BLOCK + 123);
    assert.equal(sha(await readFile(join(site.location, "ws2022-1.1.0.vhdx"))), sha(v2));
    assert.ok(events.some((e) => e.type === "site-progress" && e.phase === "transfer"));
    assert.deepEqual(events.map((e) => e.type).filter((t) => t !== "site-progress"), ["site-start", "site-end"]);
  } finally {
    await ws.cleanup();
  }
});

test("a base version without a blockmap (copied by hand) is indexed at the site, then used", async () => {
  const ws = await workspace();
  try {
    const site = { name: "hq", location: await ws.dir("hq") };
    await writeFile(join(site.location, "ws2022-1.0.0.vhdx"), v1);
    const [result] = await syncAll(await sourceOf(await ws.dir("src"), "1.1.0", v2), [site]);
    assert.equal(result?.status, "delta");
    assert.equal(result?.sentBytes, 4 * TEST_BLOCK + 123);
    assert.ok((await readdir(site.location)).includes("ws2022-1.0.0.blockmap"));
  } finally {
    await ws.cleanup();
  }
});

/** Aborts the sync after `blocks` blocks went out, like a Ctrl-C or a dropped link. */
function interruptAfter(blocks: number, controller: AbortController): Throttle {
  let taken = 0;
  return {
    async take() {
      if (++taken > blocks) controller.abort(new Error("link dropped"));
      controller.signal.throwIfAborted();
    },
  };
}

test("an interrupted sync resumes from its journal and sends only what was missing", async () => {
  const ws = await workspace();
  try {
    const source = await sourceOf(await ws.dir("src"), "1.0.0", content(3000, (b) => b));
    const site = { name: "a", location: await ws.dir("a") };
    const controller = new AbortController();
    await assert.rejects(syncSite(site, source, { throttle: interruptAfter(2000, controller), signal: controller.signal }), /link dropped/);
    assert.ok(!(await readdir(site.location)).includes("ws2022-1.0.0.vhdx"), "nothing under the final name");
    const result = await syncSite(site, source, { throttle: UNLIMITED });
    assert.equal(result.status, "full");
    // Journal entries are flushed every 64 MiB (1024 test blocks): the first 1024 survive the crash.
    assert.equal(result.resumedBytes, 1024 * TEST_BLOCK);
    assert.equal(result.sentBytes + result.resumedBytes, source.blockmap.size);
    assert.equal(sha(await readFile(join(site.location, "ws2022-1.0.0.vhdx"))), source.blockmap.sha256);
    assert.deepEqual((await readdir(site.location)).filter((n) => n.startsWith(".")), []);
  } finally {
    await ws.cleanup();
  }
});

test("a copy that fails its checksum is rebuilt once from the source alone", async () => {
  const ws = await workspace();
  try {
    const site = { name: "a", location: await ws.dir("a") };
    // The site's blockmap lies: it claims the old version already holds the new blocks.
    await writeFile(join(site.location, "ws2022-1.0.0.vhdx"), v1);
    const v2map = await computeBlockmap(await sourceOf(await ws.dir("tmp"), "x", v2).then((s) => s.path), { blockSize: TEST_BLOCK });
    await writeFile(join(site.location, "ws2022-1.0.0.blockmap"), formatBlockmap({ ...v2map, size: v1.length, blocks: v2map.blocks.slice(0, BLOCKS + 1) }));
    const result = await syncSite(site, await sourceOf(await ws.dir("src"), "1.1.0", v2), { throttle: UNLIMITED });
    assert.equal(result.status, "full");
    assert.equal(result.attempts, 2);
    assert.equal(sha(await readFile(join(site.location, "ws2022-1.1.0.vhdx"))), sha(v2));
  } finally {
    await ws.cleanup();
  }
});

test("an unreachable site fails with its reason while the other sites finish", async () => {
  const ws = await workspace();
  try {
    const source = await sourceOf(await ws.dir("src"), "1.0.0", v1);
    const results = await syncAll(source, [
      { name: "gone", location: join(ws.root, "no-such-store") },
      { name: "ok", location: await ws.dir("ok") },
    ]);
    assert.equal(results[0]?.status, "failed");
    assert.equal(results[0]?.error?.name, "StoreUnreachableError");
    assert.match(results[0]?.error?.message ?? "", /no-such-store/);
    assert.equal(results[1]?.status, "full");
  } finally {
    await ws.cleanup();
  }
});

test("--verify rereads a site's copy; a different file under the same name is reported, never overwritten", async () => {
  const ws = await workspace();
  try {
    const source = await sourceOf(await ws.dir("src"), "1.0.0", v1);
    const site = { name: "a", location: await ws.dir("a") };
    await syncSite(site, source, { throttle: UNLIMITED });
    assert.equal((await syncSite(site, source, { throttle: UNLIMITED, verify: true })).status, "skipped");
    const corrupt = Buffer.from(v1);
    corrupt[100] = corrupt[100]! ^ 0xff;
    await writeFile(join(site.location, "ws2022-1.0.0.vhdx"), corrupt);
    assert.equal((await syncSite(site, source, { throttle: UNLIMITED })).status, "skipped", "without --verify the sidecar decides");
    const checked = await syncSite(site, source, { throttle: UNLIMITED, verify: true });
    assert.equal(checked.status, "failed");
    assert.equal(checked.error?.name, "VdiskConflictError");
  } finally {
    await ws.cleanup();
  }
});

test("a site held by another publish is reported busy", async () => {
  const ws = await workspace();
  try {
    const site = { name: "a", location: await ws.dir("a") };
    await writeFile(join(site.location, "ws2022-1.0.0.rebake-lock"), "other host\n");
    const result = await syncSite(site, await sourceOf(await ws.dir("src"), "1.0.0", v1), { throttle: UNLIMITED });
    assert.equal(result.error?.name, "VdiskBusyError");
    assert.match(result.error?.message ?? "", /other host/);
  } finally {
    await ws.cleanup();
  }
});

test("the blockmap name at the site follows the vDisk", () => {
  assert.equal(blockmapName("ws2022-1.0.0.vhdx"), "ws2022-1.0.0.blockmap");
});

test("a lock left by a killed run on this host is taken over, so the sync can resume", async () => {
  const ws = await workspace();
  try {
    const site = { name: "a", location: await ws.dir("a") };
    // A pid far above pid_max is never alive.
    await writeFile(join(site.location, "ws2022-1.0.0.rebake-lock"), `${hostname()} pid 99999999 at 2026-01-01T00:00:00.000Z\n`);
    const result = await syncSite(site, await sourceOf(await ws.dir("src"), "1.0.0", v1), { throttle: UNLIMITED });
    assert.equal(result.status, "full", JSON.stringify(result.error));
  } finally {
    await ws.cleanup();
  }
});

test("--bwlimit paces what is sent: 2.5 MiB at 1 MiB/s waits 1.5 s after the first second's burst (fake clock)", async () => {
  const ws = await workspace();
  try {
    const source = await sourceOf(await ws.dir("src"), "1.0.0", v1);
    // Only the throttle's own waits move this clock, so the figure does not depend on the machine.
    let now = 0;
    const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
    const [result] = await syncAll(source, [{ name: "a", location: await ws.dir("a") }], { throttle: new TokenBucket(1024 * 1024, clock) });
    assert.equal(result?.status, "full");
    const expectedMs = ((source.blockmap.size - 1024 * 1024) / (1024 * 1024)) * 1000;
    assert.ok(Math.abs(now - expectedMs) < 1, `waited ${now.toFixed(1)} ms, expected ${expectedMs.toFixed(1)} ms`);
  } finally {
    await ws.cleanup();
  }
});
