/**
 * Distribution of a patched 4 GiB vDisk (3% of its 2 MiB blocks changed) to 3 sites (local
 * directories) that hold the previous version, against:
 * - rsync's delta mode building the new file beside the old one, as rebake does:
 *   `rsync --no-whole-file --fuzzy` (the old version in the site directory is the basis; the new
 *   file is written to a temp name and renamed, the old one stays, like a new PVS version must).
 *   `--inplace` would rewrite the old version, which PVS devices may be streaming: not equivalent.
 * - a plain copy (`cp`) of the new version to each site.
 * All three sides run the 3 sites at once and end with the new file on stable storage, as rebake
 * does before its rename (rsync --fsync; cp then sync FILE): a copy still in the page cache is not
 * distributed. rebake's time also includes indexing the source (one read; normally done once per
 * build) and rereading each site's copy to verify every block's sha256 against the source's blockmap,
 * which neither rsync nor cp does.
 * It also measures deciding "this site already has it" (sidecar and size, no read of the vDisk)
 * against one full read of the vDisk, and the chunking choice (fixed blocks vs a CDC scan).
 *
 * Ends with: RESULT distribute bytes_per_changed_byte=<x> vs_rsync=<ratio> vs_copy=<ratio> identical_check=<ratio>
 */
import { createHash, randomFillSync } from "node:crypto";
import { copyFile, mkdir, mkdtemp, open, rm, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { computeBlockmap, DEFAULT_BLOCKMAP_BLOCK_SIZE, formatBlockmap, blockmapName, readFully } from "../src/distribute/blockmap.ts";
import type { SyncSite, SyncSource } from "../src/distribute/model.ts";
import { syncAll } from "../src/distribute/sync.ts";
import { syncSite } from "../src/distribute/sync-site.ts";
import { UNLIMITED } from "../src/distribute/token-bucket.ts";
import { formatSidecar } from "../src/stores/vdisk-sidecar.ts";
import { createExec } from "../src/util/exec.ts";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const DISK_SIZE = 4 * GIB;
const BLOCK = DEFAULT_BLOCKMAP_BLOCK_SIZE;
const CHANGED_FRACTION = 0.03;
const SITES = 3;
/** Two versions at the source, the old and the new one at each site. */
const SPACE_NEEDED = (2 + 2 * SITES) * DISK_SIZE + GIB;
const WRITE_CHUNK = 16 * MIB;
const CHUNKING_SAMPLE = 256 * MIB;
const IDENTICAL_RUNS = 5;
const PROPERTIES = { description: "bench", writeCacheType: "device-ram-with-overflow-on-disk", writeCacheSizeMiB: 4096, recipe: "bench", version: "1.1.0", recipeHash: "0".repeat(64), buildId: "bench" } as const;

async function pickDirectory(): Promise<string | undefined> {
  for (const candidate of [tmpdir(), "/work"]) {
    try {
      const stats = await statfs(candidate);
      if (stats.bavail * stats.bsize >= SPACE_NEEDED) return candidate;
    } catch {
      // Not there: try the next.
    }
  }
  return undefined;
}

/** Deterministic choice of which blocks change. */
function changedBlocks(total: number, count: number): Set<number> {
  const chosen = new Set<number>();
  let state = 7;
  while (chosen.size < count) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    chosen.add(state % total);
  }
  return chosen;
}

async function writeVersions(v1: string, v2: string, changed: Set<number>): Promise<void> {
  const a = await open(v1, "w");
  const b = await open(v2, "w");
  try {
    const buffer = Buffer.allocUnsafe(WRITE_CHUNK);
    for (let at = 0; at < DISK_SIZE; at += WRITE_CHUNK) {
      randomFillSync(buffer);
      await a.write(buffer, 0, WRITE_CHUNK, at);
      for (let block = at / BLOCK; block < (at + WRITE_CHUNK) / BLOCK; block++) {
        if (changed.has(block)) randomFillSync(buffer, (block * BLOCK) - at, BLOCK);
      }
      await b.write(buffer, 0, WRITE_CHUNK, at);
    }
  } finally {
    await a.close();
    await b.close();
  }
}

async function timed<T>(body: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await body();
  return { ms: performance.now() - start, value };
}

/** Fixed 2 MiB blocks hashed with sha256 vs a gear-hash content-defined chunking scan alone. */
function measureChunking(): { fixedMiBs: number; cdcMiBs: number } {
  const data = Buffer.allocUnsafe(CHUNKING_SAMPLE);
  randomFillSync(data);
  let start = performance.now();
  for (let at = 0; at < data.length; at += BLOCK) createHash("sha256").update(data.subarray(at, at + BLOCK)).digest();
  const fixedMiBs = CHUNKING_SAMPLE / MIB / ((performance.now() - start) / 1000);
  const gear = new Uint32Array(256).map((_, i) => (i * 2654435761) >>> 0);
  const mask = BLOCK - 1;
  let hash = 0;
  let cuts = 0;
  start = performance.now();
  for (let i = 0; i < data.length; i++) {
    hash = ((hash << 1) + gear[data[i]!]!) >>> 0;
    if ((hash & mask) === 0) cuts++;
  }
  const cdcMiBs = CHUNKING_SAMPLE / MIB / ((performance.now() - start) / 1000);
  if (cuts < 0) throw new Error("unreachable");
  return { fixedMiBs, cdcMiBs };
}

async function fullRead(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(WRITE_CHUNK);
    for (let at = 0; at < DISK_SIZE; at += WRITE_CHUNK) hash.update(await readFully(file, buffer, WRITE_CHUNK, at));
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}

export async function main(_args: readonly string[]): Promise<number> {
  const parent = await pickDirectory();
  if (!parent) {
    console.error(`distribute bench: needs ${(SPACE_NEEDED / GIB).toFixed(0)} GiB free in ${tmpdir()} or /work`);
    return 1;
  }
  const exec = createExec();
  const root = await mkdtemp(join(parent, "rebake-bench-distribute-"));
  try {
    const chunking = measureChunking();
    console.log(`chunking: fixed 2 MiB blocks + sha256 ${chunking.fixedMiBs.toFixed(0)} MiB/s; gear CDC boundary scan alone ${chunking.cdcMiBs.toFixed(0)} MiB/s (before hashing)`);

    const source = join(root, "source");
    await mkdir(source);
    const v1 = join(source, "disk-1.0.0.vhdx");
    const v2 = join(source, "disk-1.1.0.vhdx");
    const blocks = DISK_SIZE / BLOCK;
    const changed = changedBlocks(blocks, Math.round(blocks * CHANGED_FRACTION));
    const changedBytes = changed.size * BLOCK;
    await writeVersions(v1, v2, changed);
    console.log(`vDisk ${DISK_SIZE / GIB} GiB, ${changed.size} of ${blocks} blocks changed (${(changedBytes / MIB).toFixed(0)} MiB), ${SITES} sites`);

    // Each site holds the previous version, indexed as a previous sync would have left it.
    const v1map = await computeBlockmap(v1);
    const sites: SyncSite[] = [];
    for (let i = 0; i < SITES; i++) {
      const dir = join(root, `site${i}`);
      await mkdir(dir);
      await copyFile(v1, join(dir, "bench-1.0.0.vhdx"));
      await writeFile(join(dir, blockmapName("bench-1.0.0.vhdx")), formatBlockmap(v1map));
      sites.push({ name: `site${i}`, location: dir });
    }
    const removeNew = () => Promise.all(sites.map((s) => rm(join(s.location, "bench-1.1.0.vhdx"), { force: true })));

    const ours = await timed(async () => {
      const blockmap = await computeBlockmap(v2);
      const syncSource: SyncSource = { path: v2, vdisk: "bench-1.1.0", family: "bench", blockmap, properties: PROPERTIES };
      return { results: await syncAll(syncSource, sites, { concurrency: SITES, throttle: UNLIMITED }), syncSource };
    });
    const { results, syncSource } = ours.value;
    for (const r of results) console.log(`rebake sync ${r.site}: ${r.status} from ${r.base ?? "-"}, sent ${(r.sentBytes / MIB).toFixed(1)} MiB, copied inside the site ${(r.localBytes / MIB).toFixed(1)} MiB${r.error ? `, ${r.error.message}` : ""}`);
    if (results.some((r) => r.status !== "delta")) throw new Error("a site did not get a delta");
    const bytesPerChanged = Math.max(...results.map((r) => r.sentBytes)) / changedBytes;
    console.log(`rebake sync: ${(ours.ms / 1000).toFixed(2)} s for ${SITES} sites (source indexing and per-site verification included)`);

    // "Already there": the skip path of a real sync (lock, stat, sidecar) against one full read.
    const skip = [];
    for (let i = 0; i < IDENTICAL_RUNS; i++) skip.push((await timed(() => syncSite(sites[0]!, syncSource, { throttle: UNLIMITED }))).ms);
    const read = await timed(() => fullRead(join(sites[0]!.location, "bench-1.1.0.vhdx")));
    skip.sort((a, b) => a - b);
    const identicalMs = skip[Math.floor(skip.length / 2)]!;
    console.log(`identical check: ${identicalMs.toFixed(2)} ms (median of ${IDENTICAL_RUNS}) vs a full sha256 read ${(read.ms / 1000).toFixed(2)} s`);
    await Promise.all(sites.map((s) => Promise.all([rm(join(s.location, "bench-1.1.0.blockmap"), { force: true }), rm(join(s.location, "bench-1.1.0.rebake.ini"), { force: true })])));
    await removeNew();

    const rsync = await timed(() => Promise.all(sites.map((s) => exec("rsync", ["--no-whole-file", "--fuzzy", "--fsync", "--stats", v2, join(s.location, "bench-1.1.0.vhdx")]))));
    const literal = /Literal data: ([\d,]+) bytes/.exec(rsync.value[0]?.stdout ?? "")?.[1];
    console.log(`rsync --no-whole-file --fuzzy --fsync: ${(rsync.ms / 1000).toFixed(2)} s for ${SITES} sites (literal data per site ${literal ?? "?"} bytes)`);
    await removeNew();

    const copy = await timed(() => Promise.all(sites.map(async (s) => {
      await exec("cp", [v2, join(s.location, "bench-1.1.0.vhdx")]);
      await exec("sync", [join(s.location, "bench-1.1.0.vhdx")]);
    })));
    console.log(`cp + sync FILE: ${(copy.ms / 1000).toFixed(2)} s for ${SITES} sites`);
    await removeNew();

    const vsRsync = ours.ms / rsync.ms;
    const vsCopy = ours.ms / copy.ms;
    const identical = identicalMs / read.ms;
    console.log(`targets: bytes_per_changed_byte <= 1.1 (${bytesPerChanged <= 1.1 ? "met" : "MISSED"}), identical_check < 0.01 (${identical < 0.01 ? "met" : "MISSED"})`);
    console.log(`RESULT distribute bytes_per_changed_byte=${bytesPerChanged.toFixed(3)} vs_rsync=${vsRsync.toFixed(3)} vs_copy=${vsCopy.toFixed(3)} identical_check=${identical.toFixed(5)}`);
    return 0;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
