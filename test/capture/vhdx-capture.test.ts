import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRecordingExec } from "../../src/util/exec.ts";
import { SourceReadError, captureVhdx, type CaptureProgress } from "../../src/capture/vhdx-capture.ts";
import { MIB } from "../../src/capture/vhdx-format.ts";

const DISK_SIZE = 8 * MIB;

/** A raw disk whose first and fourth MiB hold data; qemu-img's answers are faked to match. */
async function withRawDisk(run: (dir: string, disk: string, exec: ReturnType<typeof createRecordingExec>) => Promise<void>, mapEnd = DISK_SIZE) {
  const dir = await mkdtemp(path.join(tmpdir(), "rebake-capture-"));
  try {
    const disk = path.join(dir, "disk.raw");
    const content = Buffer.alloc(DISK_SIZE);
    content.fill(0xab, 0, MIB);
    content.fill(0xcd, 3 * MIB, 4 * MIB);
    await writeFile(disk, content.subarray(0, Math.min(DISK_SIZE, mapEnd)));
    const exec = createRecordingExec((_command, args) =>
      args[0] === "info"
        ? { stdout: JSON.stringify([{ filename: disk, format: "raw", "virtual-size": DISK_SIZE }]) }
        : {
            stdout: JSON.stringify([
              { start: 0, length: MIB, depth: 0, zero: false, data: true, offset: 0 },
              { start: MIB, length: 2 * MIB, depth: 0, zero: true, data: false, offset: MIB },
              { start: 3 * MIB, length: MIB, depth: 0, zero: false, data: true, offset: 3 * MIB },
              { start: 4 * MIB, length: 4 * MIB, depth: 0, zero: true, data: false, offset: 4 * MIB },
            ]),
          },
    );
    await run(dir, disk, exec);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const seeded = () => {
  let n = 0;
  return (size: number) => Buffer.alloc(size, ++n);
};

test("the reported sha256 and size are those of the written file, and progress ends at the total", async () => {
  await withRawDisk(async (dir, disk, exec) => {
    const out = path.join(dir, "out.vhdx");
    const progress: CaptureProgress[] = [];
    const result = await captureVhdx({ path: disk }, out, { exec, blockSizeMiB: 1, onProgress: (p) => progress.push(p) });
    const bytes = await readFile(out);
    assert.equal(result.sha256, createHash("sha256").update(bytes).digest("hex"));
    assert.equal(result.size, bytes.length);
    assert.equal(result.allocatedBlocks, 2);
    assert.equal(result.path, out);
    assert.deepEqual(progress.at(-1), { bytesDone: bytes.length, bytesTotal: bytes.length });
    assert.ok(progress.every((p, i) => i === 0 || p.bytesDone > progress[i - 1]!.bytesDone));
    assert.deepEqual(await readdir(dir), ["disk.raw", "out.vhdx"]);
  });
});

test("the same source and random source give byte-identical files", async () => {
  await withRawDisk(async (dir, disk, exec) => {
    const first = await captureVhdx({ path: disk }, path.join(dir, "a.vhdx"), { exec, random: seeded() });
    const second = await captureVhdx({ path: disk }, path.join(dir, "b.vhdx"), { exec, random: seeded() });
    assert.equal(first.sha256, second.sha256);
  });
});

const failures = [
  {
    name: "an abort while writing",
    mapEnd: DISK_SIZE,
    options: (controller: AbortController) => ({ signal: controller.signal, onProgress: () => controller.abort() }),
    error: (thrown: unknown) => (thrown as Error).name === "AbortError",
  },
  {
    name: "an abort before starting",
    mapEnd: DISK_SIZE,
    options: (controller: AbortController) => (controller.abort(), { signal: controller.signal }),
    error: (thrown: unknown) => (thrown as Error).name === "AbortError",
  },
  {
    name: "a source shorter than its map",
    mapEnd: 3 * MIB + 4096,
    options: () => ({}),
    error: (thrown: unknown) => thrown instanceof SourceReadError && /disk\.raw ended at 3149824 bytes/.test(thrown.message),
  },
];
for (const { name, mapEnd, options, error } of failures) {
  test(`after ${name} neither the vDisk nor its partial file remains`, async () => {
    await withRawDisk(async (dir, disk, exec) => {
      const controller = new AbortController();
      await assert.rejects(captureVhdx({ path: disk }, path.join(dir, "out.vhdx"), { exec, blockSizeMiB: 1, ...options(controller) }), error);
      assert.deepEqual(await readdir(dir), ["disk.raw"]);
    }, mapEnd);
  });
}
