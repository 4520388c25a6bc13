/**
 * PVS capture (qcow2 -> dynamic VHDX + sha256, one pass) against the two-pass baseline
 * `qemu-img convert -O vhdx -o subformat=dynamic` followed by `sha256sum` of its output, on a
 * 4 GiB mostly-empty disk (a few hundred MiB of random data scattered) and a 4 GiB full disk of
 * random data, both qcow2. Target: ours at most 1.0x the baseline on each.
 *
 * Each side runs RUNS times per disk, alternating which goes first, and the medians are compared,
 * so page-cache warmth and a noisy neighbour do not decide the ratio alone.
 */
import { randomFillSync } from "node:crypto";
import { mkdtemp, open, rm, stat, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createExec, type Exec } from "../src/util/exec.ts";
import { captureVhdx } from "../src/capture/vhdx-capture.ts";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const DISK_SIZE = 4 * GIB;
const RUNS = 3;
const TARGET_RATIO = 1.0;
/** The mostly-empty disk: this many 1 MiB runs of random data at scattered offsets. */
const SCATTERED_CHUNKS = 320;
const SCATTER_ALIGNMENT = 64 * 1024;
const WRITE_CHUNK = 16 * MIB;
/** Two sources, one output at a time, and the full disk's raw staging file. */
const SPACE_NEEDED = 3 * DISK_SIZE + GIB;

/** Deterministic offsets, so every run of the bench scatters the same way. */
function* scatteredOffsets(count: number, seed: number): Generator<number> {
  const slots = (DISK_SIZE - MIB) / SCATTER_ALIGNMENT;
  const used = new Set<number>();
  let state = seed;
  while (used.size < count) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const slot = state % slots;
    if (used.has(slot)) continue;
    used.add(slot);
    yield slot * SCATTER_ALIGNMENT;
  }
}

async function writeRaw(path: string, fill: (write: (at: number, length: number) => Promise<void>) => Promise<void>): Promise<void> {
  const file = await open(path, "w");
  try {
    await file.truncate(DISK_SIZE);
    const buffer = Buffer.allocUnsafe(WRITE_CHUNK);
    await fill(async (at, length) => {
      const chunk = buffer.subarray(0, length);
      randomFillSync(chunk);
      await file.write(chunk, 0, length, at);
    });
  } finally {
    await file.close();
  }
}

async function createDisks(exec: Exec, dir: string): Promise<{ empty: string; full: string }> {
  const emptyRaw = join(dir, "empty.raw");
  await writeRaw(emptyRaw, async (write) => {
    for (const at of scatteredOffsets(SCATTERED_CHUNKS, 42)) await write(at, MIB);
  });
  const empty = join(dir, "empty.qcow2");
  await exec("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", emptyRaw, empty]);
  await rm(emptyRaw);

  const fullRaw = join(dir, "full.raw");
  await writeRaw(fullRaw, async (write) => {
    for (let at = 0; at < DISK_SIZE; at += WRITE_CHUNK) await write(at, WRITE_CHUNK);
  });
  const full = join(dir, "full.qcow2");
  await exec("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", fullRaw, full]);
  await rm(fullRaw);
  return { empty, full };
}

async function pickDirectory(): Promise<string> {
  for (const candidate of [tmpdir(), "/work"]) {
    try {
      const stats = await statfs(candidate);
      if (stats.bavail * stats.bsize >= SPACE_NEEDED) return candidate;
    } catch {
      // not there on this machine: try the next one
    }
  }
  throw new Error(`the capture bench needs ${SPACE_NEEDED / GIB} GiB free in ${tmpdir()} or /work: free some space`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function timed(run: () => Promise<string>): Promise<{ seconds: number; note: string }> {
  const start = performance.now();
  const note = await run();
  return { seconds: (performance.now() - start) / 1000, note };
}

async function compareOnDisk(exec: Exec, dir: string, name: string, source: string): Promise<number> {
  const output = join(dir, "out.vhdx");
  const baseline = async () => {
    await exec("qemu-img", ["convert", "-f", "qcow2", "-O", "vhdx", "-o", "subformat=dynamic", source, output]);
    const { stdout } = await exec("sha256sum", [output]);
    return `${stdout.split(" ")[0]} ${(await stat(output)).size / MIB} MiB`;
  };
  const ours = async () => {
    const result = await captureVhdx({ path: source, format: "qcow2" }, output, { exec });
    return `${result.sha256} ${result.size / MIB} MiB, ${result.allocatedBlocks} blocks of ${result.blockSize / MIB} MiB`;
  };
  const times = { baseline: [] as number[], ours: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 === 0 ? (["baseline", "ours"] as const) : (["ours", "baseline"] as const);
    for (const side of order) {
      const { seconds, note } = await timed(side === "baseline" ? baseline : ours);
      await rm(output, { force: true });
      times[side].push(seconds);
      console.log(`${name} run ${run + 1} ${side.padEnd(8)} ${seconds.toFixed(2)} s  (${note})`);
    }
  }
  const ratio = median(times.ours) / median(times.baseline);
  console.log(`${name}: median ours ${median(times.ours).toFixed(2)} s, baseline ${median(times.baseline).toFixed(2)} s, ratio ${ratio.toFixed(3)}`);
  return ratio;
}

export async function main(): Promise<number> {
  const exec = createExec();
  const dir = await mkdtemp(join(await pickDirectory(), "rebake-bench-capture-"));
  try {
    console.log(`creating the 4 GiB mostly-empty and full qcow2 disks in ${dir}`);
    const { empty, full } = await createDisks(exec, dir);
    const emptyRatio = await compareOnDisk(exec, dir, "empty", empty);
    const fullRatio = await compareOnDisk(exec, dir, "full", full);
    const pass = emptyRatio <= TARGET_RATIO && fullRatio <= TARGET_RATIO;
    console.log(`target: at most ${TARGET_RATIO}x the baseline on both disks: ${pass ? "met" : "missed"}`);
    console.log(`RESULT capture empty_ratio=${emptyRatio.toFixed(3)} full_ratio=${fullRatio.toFixed(3)}`);
    return pass ? 0 : 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export default main;
