/**
 * The PVS capture against real qemu-img: every produced VHDX must pass `qemu-img check`, read
 * back identical to its source under `qemu-img compare`, and hash to the sha256 reported.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createExec, type Exec } from "../../src/util/exec.ts";
import { captureVhdx } from "../../src/capture/vhdx-capture.ts";

const MIB = 1024 * 1024;
const exec = createExec();

interface Fixture {
  readonly dir: string;
  /** Runs qemu-io commands against an image in the fixture directory. */
  readonly qemuIo: (image: string, ...commands: string[]) => Promise<void>;
  readonly qemuImg: (...args: string[]) => Promise<void>;
}

async function withFixture(run: (fixture: Fixture) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "rebake-capture-it-"));
  const at = (name: string) => path.join(dir, name);
  const fixture: Fixture = {
    dir,
    qemuIo: async (image, ...commands) => {
      await exec("qemu-io", [...commands.flatMap((command) => ["-c", command]), at(image)]);
    },
    qemuImg: async (...args) => {
      await exec("qemu-img", args, { cwd: dir });
    },
  };
  try {
    await run(fixture);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeRandomRaw(file: string, size: number): Promise<void> {
  await writeFile(file, randomBytes(size));
}

interface Case {
  readonly name: string;
  readonly blockSizeMiB?: number;
  /** Builds the source in the fixture directory and returns its file name. */
  readonly build: (fixture: Fixture) => Promise<string>;
  readonly allocatedBlocks: number;
}

const cases: Case[] = [
  {
    name: "an empty disk stores no payload block",
    build: async ({ qemuImg }) => (await qemuImg("create", "-f", "qcow2", "empty.qcow2", "64M"), "empty.qcow2"),
    allocatedBlocks: 0,
  },
  {
    name: "scattered data, a sub-cluster write and a write across a block boundary",
    build: async ({ qemuImg, qemuIo }) => {
      await qemuImg("create", "-f", "qcow2", "scattered.qcow2", "64M");
      await qemuIo("scattered.qcow2", "write -P 0x11 0 64k", "write -P 0x22 5243392 512", "write -P 0x33 4032k 128k", "write -P 0x44 40M 1M");
      return "scattered.qcow2";
    },
    allocatedBlocks: 4, // blocks 0, 1 and 2 (the write across 4 MiB), 20
  },
  {
    name: "a fully written disk of random data",
    build: async ({ dir, qemuImg }) => {
      await writeRandomRaw(path.join(dir, "full.raw"), 24 * MIB);
      await qemuImg("convert", "-f", "raw", "-O", "qcow2", "full.raw", "full.qcow2");
      return "full.qcow2";
    },
    allocatedBlocks: 12,
  },
  {
    name: "data in the last block only",
    build: async ({ qemuImg, qemuIo }) => {
      await qemuImg("create", "-f", "qcow2", "last.qcow2", "64M");
      await qemuIo("last.qcow2", "write -P 0x55 64448k 64k");
      return "last.qcow2";
    },
    allocatedBlocks: 1,
  },
  {
    name: "a size that is not a multiple of the block size, with data in its last sector",
    blockSizeMiB: 32,
    build: async ({ qemuImg, qemuIo }) => {
      await qemuImg("create", "-f", "qcow2", "odd.qcow2", String(65 * MIB + 3 * 512));
      await qemuIo("odd.qcow2", "write -P 0x66 1M 1M", `write -P 0x77 ${65 * MIB + 2 * 512} 512`);
      return "odd.qcow2";
    },
    allocatedBlocks: 2,
  },
  {
    name: "a layer chain whose top overrides backing data with new data and zeros",
    build: async ({ qemuImg, qemuIo }) => {
      await qemuImg("create", "-f", "qcow2", "base.qcow2", "64M");
      await qemuIo("base.qcow2", "write -P 0x01 0 8M", "write -P 0x02 30M 2M");
      await qemuImg("create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "mid.qcow2");
      await qemuIo("mid.qcow2", "write -P 0x03 1M 64k", "write -z 4M 2M");
      await qemuImg("create", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", "top.qcow2");
      await qemuIo("top.qcow2", "write -z 30M 2M", "write -P 0x04 50M 4k");
      return "top.qcow2";
    },
    allocatedBlocks: 4, // 0-2 MiB, 2-4 MiB, 6-8 MiB, 50 MiB; 4-6 MiB and 30-32 MiB read as zeros
  },
  {
    name: "a disk with compressed clusters, read through qemu-nbd",
    build: async ({ qemuImg, qemuIo }) => {
      await qemuImg("create", "-f", "qcow2", "plain.qcow2", "16M");
      await qemuIo("plain.qcow2", "write -P 0x99 0 3M", "write -P 0x9a 9M 64k");
      await qemuImg("convert", "-c", "-O", "qcow2", "plain.qcow2", "compressed.qcow2");
      return "compressed.qcow2";
    },
    allocatedBlocks: 3,
  },
  {
    name: "a qcow2 overlay on a VHDX base (a captured artifact), mixing direct and qemu-nbd reads",
    build: async ({ qemuImg, qemuIo }) => {
      await qemuImg("create", "-f", "vhdx", "base.vhdx", "32M");
      await qemuIo("base.vhdx", "write -P 0x21 0 6M", "write -P 0x22 20M 1M");
      await qemuImg("create", "-f", "qcow2", "-b", "base.vhdx", "-F", "vhdx", "overlay.qcow2");
      await qemuIo("overlay.qcow2", "write -P 0x23 1M 64k", "write -z 4M 2M", "write -P 0x24 30M 64k");
      return "overlay.qcow2";
    },
    // qemu-img map reports the whole VHDX base as data, so every block but the overlay's zeroed
    // 4-6 MiB is stored.
    allocatedBlocks: 15,
  },
  {
    name: "a sparse raw disk",
    build: async ({ qemuImg, qemuIo }) => {
      await qemuImg("create", "-f", "raw", "sparse.raw", "32M");
      await qemuIo("sparse.raw", "write -P 0x88 10M 3M");
      return "sparse.raw";
    },
    allocatedBlocks: 2, // 10-12 MiB and 12-14 MiB, plus whatever qemu allocates at offset 0
  },
];

for (const { name, build, blockSizeMiB, allocatedBlocks } of cases) {
  test(`capture of ${name} passes qemu-img check and compares identical`, async () => {
    await withFixture(async (fixture) => {
      const source = path.join(fixture.dir, await build(fixture));
      const out = path.join(fixture.dir, "out.vhdx");
      const before = new Set(await readdir(fixture.dir));
      const result = await captureVhdx({ path: source }, out, { exec, ...(blockSizeMiB ? { blockSizeMiB } : {}) });

      await exec("qemu-img", ["check", "-f", "vhdx", out]);
      const compare = await exec("qemu-img", ["compare", "-F", "vhdx", source, out]);
      assert.match(compare.stdout, /Images are identical/);
      const bytes = await readFile(out);
      assert.equal(result.sha256, createHash("sha256").update(bytes).digest("hex"));
      assert.equal(result.size, bytes.length);
      // A raw file's first sector is always reported allocated by qemu-img map.
      assert.ok(result.allocatedBlocks === allocatedBlocks || (source.endsWith(".raw") && result.allocatedBlocks === allocatedBlocks + 1), `allocated ${result.allocatedBlocks} blocks`);
      const after = (await readdir(fixture.dir)).filter((file) => !before.has(file));
      assert.deepEqual(after, ["out.vhdx"]);
    });
  });
}

const nbdDirectories = async () => (await readdir(tmpdir())).filter((name) => name.startsWith("rebake-nbd-"));

for (const compressed of [false, true]) {
  test(`an abort in the middle of a capture${compressed ? " read through qemu-nbd" : ""} leaves neither the vDisk, a partial file nor an export behind`, async () => {
    await withFixture(async ({ dir, qemuImg }) => {
      // qcow2 stores incompressible clusters plainly, so the compressed variant needs a pattern.
      if (compressed) await writeFile(path.join(dir, "big.raw"), Buffer.alloc(64 * MIB, "rebake"));
      else await writeRandomRaw(path.join(dir, "big.raw"), 64 * MIB);
      await qemuImg("convert", ...(compressed ? ["-c"] : []), "-f", "raw", "-O", "qcow2", "big.raw", "big.qcow2");
      const commands: string[] = [];
      const recordingExec: Exec = (command, args, options) => (commands.push(command), exec(command, args, options));
      const exportsBefore = await nbdDirectories();
      const controller = new AbortController();
      let calls = 0;
      await assert.rejects(
        captureVhdx({ path: path.join(dir, "big.qcow2") }, path.join(dir, "out.vhdx"), {
          exec: recordingExec,
          signal: controller.signal,
          onProgress: ({ bytesDone, bytesTotal }) => {
            if (++calls === 8 && bytesDone < bytesTotal) controller.abort();
          },
        }),
        { name: "AbortError" },
      );
      assert.ok(calls >= 8);
      assert.equal(commands.includes("qemu-nbd"), compressed);
      assert.deepEqual((await readdir(dir)).sort(), ["big.qcow2", "big.raw"]);
      assert.deepEqual(await nbdDirectories(), exportsBefore);
    });
  });
}
