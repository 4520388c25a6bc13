/**
 * A PVS vDisk version is right when parent + delta reads byte for byte as the full capture of the
 * same build. qemu-img cannot open a differencing VHDX (its vhdx driver answers "Operation not
 * supported" for HasParent files), so rebake's chain reader resolves the chain and its output is
 * compared with qemu-img's read of the full VHDX (`qemu-img compare`); 7-Zip, a second VHDX reader
 * that follows parent locators, extracts the chain and must give the same bytes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { captureVhdx } from "../../src/capture/vhdx-capture.ts";
import { captureDifferencingVhdx, type ChangeSource } from "../../src/capture/vhdx-diff-capture.ts";
import { VhdxChain, VhdxReadError } from "../../src/capture/vhdx-reader.ts";
import { createExec, ExecError } from "../../src/util/exec.ts";

const exec = createExec();

interface Builds {
  readonly dir: string;
  readonly at: (name: string) => string;
}

/**
 * Three layers like the layer cache's: a shared base, the previous build's last step and the new
 * build's. The new step rewrites part of what the old one wrote, writes a few sectors elsewhere,
 * zeroes base data, and leaves some of the old step's data unwritten (so it must revert to base).
 */
async function withBuilds(run: (builds: Builds) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "rebake-version-"));
  const at = (name: string) => path.join(dir, name);
  const img = (...args: string[]) => exec("qemu-img", args, { cwd: dir });
  const io = (image: string, ...commands: string[]) => exec("qemu-io", [...commands.flatMap((c) => ["-c", c]), at(image)]);
  try {
    await img("create", "-f", "qcow2", "base.qcow2", "64M");
    await io("base.qcow2", "write -P 0x01 0 8M", "write -P 0x03 20M 4M", "write -P 0x09 60M 1M");
    await img("create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "old.qcow2");
    await io("old.qcow2", "write -P 0x05 30M 3M", "write -P 0x06 1M 4k");
    await img("create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "new.qcow2");
    await io("new.qcow2", "write -P 0x07 30M 1M", "write -P 0x08 40M 512", "write -z 20M 2M", "write -P 0x0a 61M 3k");
    await run({ dir, at });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function chainBytes(file: string): Promise<Buffer> {
  const chain = await VhdxChain.open(file);
  try {
    const out = Buffer.alloc(chain.virtualSize);
    await chain.read(out, 0);
    return out;
  } finally {
    await chain.close();
  }
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

const methods: { name: string; changes: (b: Builds) => ChangeSource; method: string }[] = [
  { name: "the layer chain (parent built by the same recipe)", changes: (b) => ({ kind: "layers", previous: { path: b.at("old.qcow2") } }), method: "layers" },
  { name: "a content comparison (parent of unknown origin)", changes: () => ({ kind: "content" }), method: "content" },
];

for (const { name, changes, method } of methods) {
  test(`parent + delta found from ${name} reads byte-identical to the full capture (qemu-img compare)`, async () => {
    await withBuilds(async (b) => {
      await captureVhdx({ path: b.at("old.qcow2") }, b.at("ws.vhdx"), { exec });
      await captureVhdx({ path: b.at("new.qcow2") }, b.at("full.vhdx"), { exec });
      const result = await captureDifferencingVhdx({ path: b.at("new.qcow2") }, { path: b.at("ws.vhdx"), relativePath: "ws.vhdx" }, b.at("ws.1.avhdx"), { exec, changes: changes(b) });
      assert.equal(result.method, method);
      await writeFile(b.at("chain.raw"), await chainBytes(b.at("ws.1.avhdx")));
      // Exit 0 means identical; a difference exits 1 and throws.
      await exec("qemu-img", ["compare", "-f", "raw", "-F", "vhdx", b.at("chain.raw"), b.at("full.vhdx")]);
      assert.equal(result.sha256, sha256(await readFile(b.at("ws.1.avhdx"))));
      assert.deepEqual((await readdir(b.dir)).filter((f) => f.endsWith(".partial")), []);
    });
  });
}

test("the version stores only the changed blocks, with sector bitmaps for partly changed ones", async () => {
  await withBuilds(async (b) => {
    await captureVhdx({ path: b.at("old.qcow2") }, b.at("ws.vhdx"), { exec });
    const result = await captureDifferencingVhdx({ path: b.at("new.qcow2") }, { path: b.at("ws.vhdx"), relativePath: "ws.vhdx" }, b.at("ws.1.avhdx"), { exec, changes: { kind: "layers", previous: { path: b.at("old.qcow2") } } });
    // Blocks (2 MiB): 0 (old's 4k reverts to base: 8 sectors), 10 (zeroed base: full), 15 (30-31 MiB
    // new, 31-32 MiB reverts to zeros: full), 16 (old's 32-33 MiB reverts: 2048 sectors),
    // 20 (one sector), 30 (6 sectors).
    assert.deepEqual({ full: result.fullBlocks, partial: result.partialBlocks }, { full: 2, partial: 4 });
    assert.equal(result.changedBytes, (8 + 4096 + 4096 + 2048 + 1 + 6) * 512);
  });
});

test("7-Zip opens the chain through its parent locator and extracts the full build's bytes", async () => {
  await withBuilds(async (b) => {
    await captureVhdx({ path: b.at("old.qcow2") }, b.at("ws.vhdx"), { exec });
    await captureDifferencingVhdx({ path: b.at("new.qcow2") }, { path: b.at("ws.vhdx"), relativePath: "ws.vhdx" }, b.at("ws.1.avhdx"), { exec });
    const listing = await exec("7zz", ["l", "-slt", b.at("ws.1.avhdx")]);
    assert.match(listing.stdout, /Method = Differencing -> dynamic/);
    assert.match(listing.stdout, /Parent = ws\.vhdx/);
    await exec("7zz", ["x", `-o${b.at("out")}`, b.at("ws.1.avhdx")]);
    const [extracted] = await readdir(b.at("out"));
    await exec("qemu-img", ["convert", "-O", "raw", b.at("new.qcow2"), b.at("new.raw")]);
    assert.equal(sha256(await readFile(path.join(b.at("out"), extracted!))), sha256(await readFile(b.at("new.raw"))));
  });
});

test("qemu-img refuses a differencing VHDX, which is why the chain reader exists (contract)", async () => {
  await withBuilds(async (b) => {
    await captureVhdx({ path: b.at("old.qcow2") }, b.at("ws.vhdx"), { exec });
    await captureDifferencingVhdx({ path: b.at("new.qcow2") }, { path: b.at("ws.vhdx"), relativePath: "ws.vhdx" }, b.at("ws.1.avhdx"), { exec });
    await assert.rejects(exec("qemu-img", ["info", b.at("ws.1.avhdx")]), (error: unknown) => error instanceof ExecError && /not supported/i.test(error.message));
  });
});

test("a parent that changed after the version was written is refused, not read", async () => {
  await withBuilds(async (b) => {
    await captureVhdx({ path: b.at("old.qcow2") }, b.at("ws.vhdx"), { exec });
    await captureDifferencingVhdx({ path: b.at("new.qcow2") }, { path: b.at("ws.vhdx"), relativePath: "ws.vhdx" }, b.at("ws.1.avhdx"), { exec });
    // A recapture writes new GUIDs: same name, other DataWriteGuid.
    await captureVhdx({ path: b.at("old.qcow2") }, b.at("ws.vhdx.new"), { exec });
    await rm(b.at("ws.vhdx"));
    await exec("mv", [b.at("ws.vhdx.new"), b.at("ws.vhdx")]);
    await assert.rejects(VhdxChain.open(b.at("ws.1.avhdx")), (error: unknown) => error instanceof VhdxReadError && /DataWriteGuid/.test(error.message));
  });
});
