import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FakeDriverError, FakeHypervisorDriver } from "../../src/hypervisors/fake-driver.ts";
import { FakeGuestChannel } from "../../src/guest/fake-channel.ts";
import type { VmSpec } from "../../src/hypervisors/driver.ts";

function spec(dir: string): VmSpec {
  return { name: "golden", cpus: 1, memoryMiB: 512, diskGiB: 4, firmware: "bios", secureBoot: false, tpm: false, disk: { path: path.join(dir, "l0.qcow2") } };
}

describe("FakeHypervisorDriver", () => {
  it("records calls, tracks power and writes layer files where checkpoints go", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rebake-fake-"));
    try {
      const driver = new FakeHypervisorDriver();
      const vm = await driver.createVm(spec(dir));
      await driver.powerOn(vm);
      await driver.checkpoint(vm, path.join(dir, "l1.qcow2"));
      assert.ok(existsSync(path.join(dir, "l0.qcow2")) && existsSync(path.join(dir, "l1.qcow2")));
      await assert.rejects(driver.snapshot(vm, "s"), FakeDriverError);
      await driver.waitPoweredOff(vm, 1_000);
      assert.deepEqual(await driver.snapshot(vm, "s"), { ref: `${path.join(dir, "l1.qcow2")}@s`, placement: { resourcePools: [], snapshotChain: ["s"] } });
      await driver.destroy(vm);
      assert.deepEqual(driver.methods, ["createVm", "powerOn", "checkpoint", "snapshot", "waitPoweredOff", "snapshot", "destroy"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("fails the next call of a method once when told to", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rebake-fake-"));
    try {
      const driver = new FakeHypervisorDriver();
      driver.failNext("createVm");
      await assert.rejects(driver.createVm(spec(dir)), /injected failure of createVm/);
      await driver.createVm(spec(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("gives each VM one guest channel, the one the test supplies", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rebake-fake-"));
    try {
      const channel = new FakeGuestChannel();
      const driver = new FakeHypervisorDriver({ guest: () => channel });
      const vm = await driver.createVm(spec(dir));
      assert.equal(driver.guest(vm), channel);
      assert.equal(driver.guest(vm), channel);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
