/**
 * `rebake sync` of a vDisk version against real directory stores: a site holding the parent gets
 * only the `.avhdx`, sent as its non-zero pages, and the chain at the site reads as the full build;
 * a site without the parent, or with another file under its name, gets the full vDisk and says why.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { captureVhdx } from "../../src/capture/vhdx-capture.ts";
import { captureDifferencingVhdx } from "../../src/capture/vhdx-diff-capture.ts";
import { VhdxChain } from "../../src/capture/vhdx-reader.ts";
import { computeBlockmap } from "../../src/distribute/blockmap.ts";
import { UNLIMITED } from "../../src/distribute/token-bucket.ts";
import { syncVersionToSite, type VersionSource } from "../../src/distribute/version-sync.ts";
import { createExec } from "../../src/util/exec.ts";

const exec = createExec();
const PROPERTIES = { description: "t", writeCacheType: "device-ram-with-overflow-on-disk", writeCacheSizeMiB: 512, recipe: "ws", version: "1.1.0", recipeHash: "0".repeat(64), buildId: "b2" } as const;

/** The version, and how many times its full vDisk was indexed (read in full). */
async function withVersion(run: (dir: string, source: VersionSource, fullPath: string, indexed: () => number) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "rebake-version-sync-"));
  const at = (name: string) => path.join(dir, name);
  const io = (image: string, ...commands: string[]) => exec("qemu-io", [...commands.flatMap((c) => ["-c", c]), at(image)]);
  try {
    await exec("qemu-img", ["create", "-q", "-f", "qcow2", at("base.qcow2"), "64M"]);
    await io("base.qcow2", "write -P 0x01 0 40M");
    await exec("qemu-img", ["create", "-q", "-f", "qcow2", "-b", at("base.qcow2"), "-F", "qcow2", at("new.qcow2")]);
    await io("new.qcow2", "write -P 0x07 30M 1M", "write -P 0x08 50M 4k");
    await mkdir(at("hq"));
    const parent = await captureVhdx({ path: at("base.qcow2") }, at("hq/ws-1.0.0.vhdx"), { exec });
    const full = await captureVhdx({ path: at("new.qcow2") }, at("hq/ws-1.1.0.vhdx"), { exec });
    const version = await captureDifferencingVhdx({ path: at("new.qcow2") }, { path: at("hq/ws-1.0.0.vhdx"), relativePath: "ws-1.0.0.vhdx" }, at("hq/ws-1.0.0.1.avhdx"), { exec });
    const blockmap = await computeBlockmap(full.path);
    let indexCalls = 0;
    const index = async () => {
      indexCalls++;
      return { path: full.path, vdisk: "ws-1.1.0", family: "ws", blockmap, properties: PROPERTIES };
    };
    const source: VersionSource = {
      path: version.path,
      file: "ws-1.0.0.1.avhdx",
      sha256: version.sha256,
      size: version.size,
      parentFile: "ws-1.0.0.vhdx",
      parentLinkage: version.parentLinkage,
      parentSha256: parent.sha256,
      full: { vdisk: "ws-1.1.0", size: blockmap.size, index },
    };
    await run(dir, source, full.path, () => indexCalls);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("a site with the parent receives only the version's non-zero pages, and its chain reads as the full build", async () => {
  await withVersion(async (dir, source, fullPath, indexed) => {
    const site = path.join(dir, "site-a");
    await mkdir(site);
    await copyFile(path.join(dir, "hq/ws-1.0.0.vhdx"), path.join(site, "ws-1.0.0.vhdx"));
    const result = await syncVersionToSite({ name: "a", location: site }, source, { throttle: UNLIMITED });
    assert.equal(result.status, "version", result.error?.message);
    assert.match(result.reason, /has the parent ws-1\.0\.0\.vhdx/);
    // 1 MiB + 4 KiB changed: the version file is 8 MiB, the link carries little more than the change.
    assert.ok(result.sentBytes < 1.05 * (1024 * 1024 + 4096), `sent ${result.sentBytes}`);
    const chain = await VhdxChain.open(path.join(site, source.file));
    const atSite = Buffer.alloc(chain.virtualSize);
    await chain.read(atSite, 0);
    await chain.close();
    const full = await VhdxChain.open(fullPath);
    const expected = Buffer.alloc(full.virtualSize);
    await full.read(expected, 0);
    await full.close();
    assert.ok(atSite.equals(expected));
    const again = await syncVersionToSite({ name: "a", location: site }, source, { throttle: UNLIMITED });
    assert.equal(again.status, "skipped");
    assert.equal(indexed(), 0, "shipping the version never reads the full vDisk");
  });
});

const fallbacks = [
  { name: "a site without the parent gets the full vDisk and says so", prepare: async () => undefined, reason: /has no ws-1\.0\.0\.vhdx/ },
  {
    name: "a site whose parent file is another capture gets the full vDisk and says so",
    prepare: async (dir: string, site: string) => void (await captureVhdx({ path: path.join(dir, "new.qcow2") }, path.join(site, "ws-1.0.0.vhdx"), { exec })),
    reason: /not the version's parent \(DataWriteGuid/,
  },
];

for (const c of fallbacks) {
  test(c.name, async () => {
    await withVersion(async (dir, source, fullPath, indexed) => {
      const site = path.join(dir, "site-b");
      await mkdir(site);
      await c.prepare(dir, site);
      const result = await syncVersionToSite({ name: "b", location: site }, source, { throttle: UNLIMITED });
      assert.equal(result.status, "full", result.error?.message);
      assert.match(result.reason, c.reason);
      assert.deepEqual(await readFile(path.join(site, "ws-1.1.0.vhdx")), await readFile(fullPath));
      assert.equal(indexed(), 1);
    });
  });
}

test("a version above the configured fraction of the full vDisk falls back to it", async () => {
  await withVersion(async (dir, source) => {
    const site = path.join(dir, "site-c");
    await mkdir(site);
    await copyFile(path.join(dir, "hq/ws-1.0.0.vhdx"), path.join(site, "ws-1.0.0.vhdx"));
    const result = await syncVersionToSite({ name: "c", location: site }, source, { throttle: UNLIMITED, maxDeltaFraction: 0.01 });
    assert.equal(result.status, "full");
    assert.match(result.reason, /above the 1% limit/);
  });
});
