/**
 * The QEMU driver's MCS snapshot layer, with the real qemu-img on small disks (no VM): the layer
 * holds the disk as it was at the snapshot, not as the golden VM's disk is now, and the golden
 * disk is left as it was.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QemuDriver } from "../../src/hypervisors/qemu/qemu-driver.ts";
import { createExec } from "../../src/util/exec.ts";

const exec = createExec();
const write = (file: string, pattern: number) => exec("qemu-io", ["-f", "qcow2", "-c", `write -P ${pattern} 0 64k`, file]);
const reads = async (file: string, pattern: number) => (await exec("qemu-io", ["-f", "qcow2", "-r", "-c", `read -P ${pattern} 0 64k`, file], { nothrow: true })).stdout.includes("read 65536/65536");

describe("QEMU snapshot layer", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rebake-snapshot-layer-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("copies the disk as it was at the snapshot, leaving the golden disk alone", async () => {
    const golden = join(dir, "golden.qcow2");
    await exec("qemu-img", ["create", "-q", "-f", "qcow2", golden, "1M"]);
    await write(golden, 0x5a);
    await exec("qemu-img", ["snapshot", "-c", "mcs-1", golden]);
    // The golden VM moved on after the snapshot: verify must not see that.
    await write(golden, 0x11);
    const driver = new QemuDriver({ runtimeDir: dir, exec });
    const layer = await driver.snapshotLayer({ name: "mcs-1", ref: `${golden}@mcs-1` }, dir);
    assert.ok(await reads(layer, 0x5a), "the layer holds the snapshot's data");
    assert.ok(await reads(golden, 0x11), "the golden disk is unchanged");
    assert.match((await exec("qemu-img", ["snapshot", "-l", golden])).stdout, /mcs-1/);
  });

  const refused = [
    { name: "a snapshot name that does not match the ref", snapshot: { name: "other", ref: "/x/golden.qcow2@mcs-1" } },
    { name: "a disk this machine does not hold", snapshot: { name: "mcs-1", ref: "/nonexistent/golden.qcow2@mcs-1" } },
    { name: "a vSphere image path", snapshot: { name: "mcs-1", ref: "XDHyp:\\\\HostingUnits\\\\HU1\\\\g.vm\\\\mcs-1.snapshot" } },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, async () => {
      await assert.rejects(new QemuDriver({ runtimeDir: dir, exec }).snapshotLayer(c.snapshot, dir), /is not a QEMU snapshot this machine holds/);
    });
  }
});
