/**
 * `rebake version` then `rebake sync` end to end on local directories: the newer build becomes a
 * version file of the older one, and sync ships it where the parent is, the full vDisk elsewhere.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { access, copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { captureVhdx } from "../../src/capture/vhdx-capture.ts";
import { VhdxChain } from "../../src/capture/vhdx-reader.ts";
import { createExec } from "../../src/util/exec.ts";
import { captureIo } from "../support/capture-io.ts";
import { pvsStackYaml, workspace } from "../distribute/fixtures.ts";

const exec = createExec();

async function build(root: string, version: string, disk: string): Promise<void> {
  const out = join(root, "out/ws2022-pvs", version);
  await mkdir(out, { recursive: true });
  const vhdx = await captureVhdx({ path: disk }, join(out, "ws2022-pvs.vhdx"), { exec });
  await writeFile(join(out, "manifest.json"), JSON.stringify({
    manifestVersion: 1,
    buildId: `b-${version}`,
    target: "pvs",
    recipe: { name: "ws2022-pvs", version, file: "recipes/none.yaml", hash: "a".repeat(64) },
    steps: [],
    outputs: [{ kind: "vhdx", path: "ws2022-pvs.vhdx", size: vhdx.size, sha256: vhdx.sha256 }],
  }));
}

test("rebake version writes the next version and rebake sync ships it where the parent is, the full vDisk elsewhere", async () => {
  const ws = await workspace();
  try {
    const root = await ws.dir("project");
    const disks = await ws.dir("disks");
    const io = (...commands: string[]) => exec("qemu-io", commands.flatMap((c) => ["-c", c]).concat(join(disks, "d.qcow2")));
    await exec("qemu-img", ["create", "-q", "-f", "qcow2", join(disks, "d.qcow2"), "32M"]);
    await io("write -P 0x01 0 20M");
    await build(root, "1.0.0", join(disks, "d.qcow2"));
    await io("write -P 0x02 4M 64k", "write -P 0x03 30M 512");
    await build(root, "1.1.0", join(disks, "d.qcow2"));
    const [withParent, without] = [await ws.dir("site-a"), await ws.dir("site-b")];
    await copyFile(join(root, "out/ws2022-pvs/1.0.0/ws2022-pvs.vhdx"), join(withParent, "ws2022-pvs-1.0.0.vhdx"));
    await mkdir(join(root, "stacks"));
    await writeFile(join(root, "stacks/Pulumi.t.yaml"), pvsStackYaml("1.1.0", [withParent, without]));

    const version = captureIo(root);
    assert.equal(await main(["version", "out/ws2022-pvs/1.1.0/manifest.json", "--parent", "out/ws2022-pvs/1.0.0/manifest.json", "--cache-dir", join(root, "cache")], version), 0, version.err());
    assert.match(version.out(), /ws2022-pvs-1\.0\.0\.1\.avhdx: version 1 of ws2022-pvs-1\.0\.0/);
    assert.match(version.out(), /a content comparison: the builds' layers are no longer in the layer cache/);

    // Sites that all hold the parent get the version without the full vDisk ever being read.
    const parentOnly = await ws.dir("site-c");
    await copyFile(join(root, "out/ws2022-pvs/1.0.0/ws2022-pvs.vhdx"), join(parentOnly, "ws2022-pvs-1.0.0.vhdx"));
    await writeFile(join(root, "stacks/Pulumi.parent-only.yaml"), pvsStackYaml("1.1.0", [parentOnly]));
    const first = captureIo(root);
    assert.equal(await main(["sync", "--stack", "parent-only"], first), 0, first.err());
    assert.match(first.out(), /Site0: version ws2022-pvs-1\.0\.0\.1\.avhdx/);
    await assert.rejects(access(join(root, "out/ws2022-pvs/1.1.0/ws2022-pvs.blockmap")), "no blockmap: the full vDisk was not indexed");

    const sync = captureIo(root);
    assert.equal(await main(["sync", "--stack", "t"], sync), 0, sync.err());
    assert.match(sync.out(), /Site0: version ws2022-pvs-1\.0\.0\.1\.avhdx, sent .*: the site has the parent ws2022-pvs-1\.0\.0\.vhdx/);
    assert.match(sync.out(), /Site1: full vDisk ws2022-pvs-1\.1\.0\.vhdx, sent .*: the site has no ws2022-pvs-1\.0\.0\.vhdx/);

    const chain = await VhdxChain.open(join(withParent, "ws2022-pvs-1.0.0.1.avhdx"));
    const atSite = Buffer.alloc(chain.virtualSize);
    await chain.read(atSite, 0);
    await chain.close();
    await exec("qemu-img", ["convert", "-O", "raw", join(disks, "d.qcow2"), join(disks, "d.raw")]);
    assert.ok(atSite.equals(await readFile(join(disks, "d.raw"))));
  } finally {
    await ws.cleanup();
  }
});
