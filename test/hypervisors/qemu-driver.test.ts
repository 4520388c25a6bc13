import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { QemuDriver, VmSpecError, VmStateError } from "../../src/hypervisors/qemu/qemu-driver.ts";
import type { VmSpec } from "../../src/hypervisors/driver.ts";
import { createRecordingExec } from "../../src/util/exec.ts";

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rbqd-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function spec(dir: string, overrides: Partial<VmSpec> = {}): VmSpec {
  return { name: "Golden VM", cpus: 2, memoryMiB: 1024, diskGiB: 8, firmware: "bios", secureBoot: false, tpm: false, disk: { path: path.join(dir, "top.qcow2") }, ...overrides };
}

/** qemu-img answers: `info` reports a raw base; `create` makes the file so later existence checks see it. */
function qemuImg() {
  return createRecordingExec((command, args) => {
    if (command === "qemu-img" && args[0] === "info") return { stdout: JSON.stringify({ format: "raw", "virtual-size": 8 << 30 }) };
    if (command === "qemu-img" && args[0] === "create") {
      const sized = /^\d+G$/.test(args.at(-1) ?? "");
      writeFileSync(args.at(sized ? -2 : -1) ?? "", "");
    }
    return undefined;
  });
}

describe("QemuDriver disks (recording qemu-img)", () => {
  it("creates an empty qcow2 of diskGiB without a base layer", async () => {
    await withDir(async (dir) => {
      const exec = qemuImg();
      const driver = new QemuDriver({ runtimeDir: path.join(dir, "run"), exec, log: () => {} });
      const vm = await driver.createVm(spec(dir));
      assert.deepEqual(exec.calls.map((call) => [call.command, ...call.args]), [["qemu-img", "create", "-q", "-f", "qcow2", path.join(dir, "top.qcow2"), "8G"]]);
      assert.match(vm.id, /^golden-vm-[0-9a-f]{6}$/);
      await driver.destroy(vm);
    });
  });

  it("layers the disk on the base with the format qemu-img detects", async () => {
    await withDir(async (dir) => {
      const base = path.join(dir, "base.img");
      await writeFile(base, "");
      const exec = qemuImg();
      const driver = new QemuDriver({ runtimeDir: path.join(dir, "run"), exec, log: () => {} });
      const vm = await driver.createVm(spec(dir, { disk: { path: path.join(dir, "top.qcow2"), baseLayer: base } }));
      assert.deepEqual(exec.calls.map((call) => call.args), [
        ["info", "--output=json", "-U", base],
        ["create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", path.join(dir, "top.qcow2")],
      ]);
      await driver.destroy(vm);
      assert.ok(existsSync(base), "destroy removed the base layer");
    });
  });

  it("checkpoints a powered-off VM with qemu-img and writes on into the new layer", async () => {
    await withDir(async (dir) => {
      const exec = qemuImg();
      const driver = new QemuDriver({ runtimeDir: path.join(dir, "run"), exec, log: () => {} });
      const vm = await driver.createVm(spec(dir));
      const next = path.join(dir, "step-1.qcow2");
      await driver.checkpoint(vm, next);
      assert.deepEqual(exec.calls.at(-1)?.args, ["create", "-q", "-f", "qcow2", "-b", path.join(dir, "top.qcow2"), "-F", "raw", next]);
      assert.deepEqual(await driver.exportDisk(vm), { path: next, format: "qcow2" });
      assert.deepEqual(await driver.snapshot(vm, "mcs-1"), { ref: `${next}@mcs-1` });
      assert.deepEqual(exec.calls.at(-1)?.args, ["snapshot", "-c", "mcs-1", next]);
      await driver.destroy(vm);
    });
  });

  const invalid: { name: string; overrides: (dir: string) => Partial<VmSpec>; message: RegExp }[] = [
    { name: "collects every problem of a spec", overrides: () => ({ cpus: 0, memoryMiB: 1, diskGiB: 0, secureBoot: true }), message: /cpus must be .*got: 0; memoryMiB must be .*got: 1; diskGiB must be > 0.*; secureBoot needs firmware "uefi"/ },
    { name: "refuses a missing base layer", overrides: (dir) => ({ disk: { path: path.join(dir, "t.qcow2"), baseLayer: path.join(dir, "missing.qcow2") } }), message: /baseLayer .*missing.qcow2 does not exist/ },
  ];
  for (const c of invalid) {
    it(c.name, async () => {
      await withDir(async (dir) => {
        const driver = new QemuDriver({ runtimeDir: path.join(dir, "run"), exec: qemuImg(), log: () => {} });
        await assert.rejects(driver.createVm(spec(dir, c.overrides(dir))), (error: Error) => error instanceof VmSpecError && c.message.test(error.message));
      });
    });
  }

  it("never overwrites an existing disk layer", async () => {
    await withDir(async (dir) => {
      await writeFile(path.join(dir, "top.qcow2"), "");
      const driver = new QemuDriver({ runtimeDir: path.join(dir, "run"), exec: qemuImg(), log: () => {} });
      await assert.rejects(driver.createVm(spec(dir)), /already exists: the driver never overwrites a layer/);
    });
  });

  it("refuses a runtime directory too long for unix socket paths, naming the fix", async () => {
    await withDir(async (dir) => {
      const driver = new QemuDriver({ runtimeDir: path.join(dir, "x".repeat(90)), exec: qemuImg(), log: () => {} });
      await assert.rejects(driver.createVm(spec(dir)), /longer than 107 bytes: use a shorter runtime directory/);
    });
  });

  it("rejects calls for a VM it does not know, but destroys twice quietly", async () => {
    await withDir(async (dir) => {
      const driver = new QemuDriver({ runtimeDir: path.join(dir, "run"), exec: qemuImg(), log: () => {} });
      const vm = await driver.createVm(spec(dir));
      await driver.destroy(vm);
      await driver.destroy(vm);
      await assert.rejects(driver.powerOn(vm), VmStateError);
    });
  });
});
