/**
 * The QEMU driver against a real qemu-system-x86_64 with no OS on the disk: process lifecycle,
 * QMP, media changes, checkpoints producing backing chains, UEFI + TPM, and no process left behind.
 * The guest channel for running checkpoints is Debian's qemu-ga on the host (no guest exists).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import os from "node:os";
import path from "node:path";
import { VmStoppedError } from "../../src/hypervisors/driver.ts";
import { QemuDriver, QemuStartError, VmStateError, VmTimeoutError } from "../../src/hypervisors/qemu/qemu-driver.ts";
import { chooseAccel, findProbePayload } from "../../src/hypervisors/qemu/kvm-probe.ts";
import { findUefiFirmware } from "../../src/hypervisors/qemu/firmware.ts";
import { QgaChannel } from "../../src/guest/qga/qga-channel.ts";
import type { VmHandle, VmSpec } from "../../src/hypervisors/driver.ts";
import { createExec } from "../../src/util/exec.ts";
import { startHostAgent, stopHostAgent } from "./qga-host-agent.ts";

const exec = createExec();

function spec(dir: string, overrides: Partial<VmSpec> = {}): VmSpec {
  return { name: "it-vm", cpus: 1, memoryMiB: 128, diskGiB: 1, firmware: "bios", secureBoot: false, tpm: false, disk: { path: path.join(dir, "layers", "top.qcow2") }, ...overrides };
}

function pidOf(driver: QemuDriver, vm: VmHandle): number {
  const match = /\(pid (\d+)\)/.exec(driver.access(vm).description);
  assert.ok(match?.[1], `no pid in ${driver.access(vm).description}`);
  return Number(match[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function backingChain(file: string): Promise<string[]> {
  const { stdout } = await exec("qemu-img", ["info", "-U", "--backing-chain", "--output=json", file]);
  return (JSON.parse(stdout) as { filename: string }[]).map((image) => image.filename);
}

/** Processes named after a VM's runtime directory: qemu and swtpm carry it in their arguments. */
async function processesUsing(dir: string): Promise<string[]> {
  const { stdout } = await exec("ps", ["-eo", "pid,args"]);
  return stdout.split("\n").filter((line) => line.includes(dir) && !line.includes("ps -eo"));
}

describe("QEMU driver with a real qemu-system-x86_64", () => {
  let dir: string;
  let agent: ChildProcess;
  let driver: QemuDriver;
  const log: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "rbq-"));
    agent = await startHostAgent(dir, path.join(dir, "agent.sock"));
    driver = new QemuDriver({
      runtimeDir: path.join(dir, "run"),
      log: (line) => log.push(line),
      guestChannel: () => new QgaChannel({ socketPath: path.join(dir, "agent.sock") }),
    });
  });

  after(async () => {
    await stopHostAgent(agent);
    assert.deepEqual(await processesUsing(path.join(dir, "run")), [], "a qemu or swtpm process was left behind");
    await rm(dir, { recursive: true, force: true });
  });

  it("decides the accelerator by booting the test OS kernel to user space, and keeps the answer", async () => {
    assert.ok(findProbePayload(), "build/testos/kvm-probe/ is missing: scripts/build-testos.sh writes it");
    const first = chooseAccel({ env: {} });
    // Whatever this host's KVM does, the answer says what was proven, never a BIOS POST.
    assert.match((await first).reason, /KVM booted a 64-bit kernel to user space in [\d.]+ s|KVM did not boot a 64-bit kernel to user space|KVM is not usable/);
    assert.doesNotMatch((await first).reason, /SeaBIOS/);
    assert.equal(chooseAccel({ env: {} }), first, "a second call probes again instead of keeping the answer");
    assert.deepEqual(await chooseAccel({ env: { REBAKE_ACCEL: "tcg" } }), { accel: "tcg", reason: "REBAKE_ACCEL=tcg" });
  });

  it("runs a VM, changes media, checkpoints it while running into a backing chain, and destroys it without a trace", async () => {
    const vmSpec = spec(dir);
    const iso = path.join(dir, "install.iso");
    const answers = path.join(dir, "answers.iso");
    await writeFile(iso, Buffer.alloc(2048 * 16));
    await writeFile(answers, Buffer.alloc(2048 * 16));
    const vm = await driver.createVm(vmSpec);
    await driver.attachMedia(vm, [{ path: iso, role: "install" }]);
    await driver.powerOn(vm);
    const pid = pidOf(driver, vm);
    assert.ok(alive(pid));
    assert.ok(log.some((line) => /^accelerator (kvm|tcg): /.test(line)), "the accelerator choice was not logged");

    await driver.attachMedia(vm, [{ path: iso, role: "install" }, { path: answers, role: "answers" }]);
    await driver.attachMedia(vm, [{ path: answers, role: "answers" }]);

    const next = path.join(dir, "layers", "step-1.qcow2");
    await driver.checkpoint(vm, next);
    assert.deepEqual(await backingChain(next), [next, vmSpec.disk.path]);
    assert.ok(log.some((line) => line.includes("checkpoint of the running VM (synced)")), "the guest was not flushed before the snapshot");
    await assert.rejects(driver.snapshot(vm, "golden"), VmStateError);
    await assert.rejects(driver.exportDisk(vm), VmStateError);

    const vmDir = path.dirname(/in (\S+)/.exec(driver.access(vm).description)?.[1] + "/x");
    await driver.destroy(vm);
    assert.equal(alive(pid), false, "qemu survived destroy");
    assert.equal(existsSync(vmDir), false, "the VM directory survived destroy");
    assert.ok(existsSync(vmSpec.disk.path) && existsSync(next), "destroy removed disk layers it does not own");
    await driver.destroy(vm);
    await rm(path.join(dir, "layers"), { recursive: true, force: true });
  });

  // A power off the guest asks for is the test OS tests' (qemu-testos, testos): here the host stops it.
  for (const c of [
    { signal: "SIGTERM", stop: /^VM \S+ stopped: qemu for VM \S+ was stopped from the host \(host-signal\)$/ },
    { signal: "SIGKILL", stop: /^VM \S+ stopped: qemu for VM \S+ was killed by SIGKILL$/ },
  ] as const) {
    it(`times out waitPoweredOff while the VM runs, and refuses a ${c.signal} from the host as a power off`, async () => {
      const vm = await driver.createVm(spec(dir));
      try {
        await driver.powerOn(vm);
        await assert.rejects(driver.waitPoweredOff(vm, 300), VmTimeoutError);
        const monitor = driver.monitor(vm);
        assert.ok(monitor);
        process.kill(pidOf(driver, vm), c.signal);
        await assert.rejects(driver.waitPoweredOff(vm, 10_000), (error: Error) => error instanceof VmStoppedError && c.stop.test(error.message));
        const stop = await monitor.stopped;
        assert.deepEqual([stop.requestedByGuest, stop.requestedByDriver], [false, false]);
        assert.match(driver.access(vm).description, /powered off/);
        assert.equal(driver.monitor(vm), undefined, "a stopped VM has nothing to watch");
      } finally {
        await driver.destroy(vm);
        await rm(path.join(dir, "layers"), { recursive: true, force: true });
      }
    });
  }

  it("reports the console, disk writes and CPU time of a running VM, and a driver power off as the driver's", async () => {
    const vm = await driver.createVm(spec(dir));
    try {
      await driver.powerOn(vm);
      const monitor = driver.monitor(vm);
      assert.ok(monitor);
      assert.match(monitor.accelerator, /^(kvm|tcg)$/);
      const activity = await monitor.activity();
      assert.ok(Number.isFinite(activity.cpuMs) && activity.cpuMs >= 0 && activity.diskWrittenBytes >= 0 && activity.consoleBytes >= 0, JSON.stringify(activity));
      assert.deepEqual(await monitor.readConsole(activity.consoleBytes + 1_000_000), { text: "", offset: activity.consoleBytes + 1_000_000 });
      await driver.powerOff(vm);
      const stop = await monitor.stopped;
      assert.deepEqual([stop.requestedByGuest, stop.requestedByDriver], [false, true]);
      await driver.waitPoweredOff(vm, 1_000);
    } finally {
      await driver.destroy(vm);
      await rm(path.join(dir, "layers"), { recursive: true, force: true });
    }
  });

  it("checkpoints, snapshots and exports a powered-off VM built on a base layer", async () => {
    const base = path.join(dir, "base.qcow2");
    await exec("qemu-img", ["create", "-q", "-f", "qcow2", base, "1G"]);
    const vmSpec = spec(dir, { disk: { path: path.join(dir, "layers", "top.qcow2"), baseLayer: base } });
    const vm = await driver.createVm(vmSpec);
    try {
      const next = path.join(dir, "layers", "next.qcow2");
      await driver.checkpoint(vm, next);
      assert.deepEqual(await backingChain(next), [next, vmSpec.disk.path, base]);
      const { ref } = await driver.snapshot(vm, "golden");
      assert.equal(ref, `${next}@golden`);
      const { stdout } = await exec("qemu-img", ["snapshot", "-l", next]);
      assert.match(stdout, /golden/);
      assert.deepEqual(await driver.exportDisk(vm), { path: next, format: "qcow2" });
    } finally {
      await driver.destroy(vm);
      await rm(path.join(dir, "layers"), { recursive: true, force: true });
    }
    assert.ok(existsSync(base), "the base layer was removed");
  });

  it("boots UEFI with secure boot and a TPM, and powers off qemu and swtpm together", async () => {
    const vm = await driver.createVm(spec(dir, { firmware: "uefi", secureBoot: true, tpm: true }));
    try {
      await driver.powerOn(vm);
      const running = await processesUsing(path.join(dir, "run"));
      assert.ok(running.some((line) => line.includes("swtpm")), "swtpm is not running");
      assert.ok(running.some((line) => line.includes("OVMF_CODE")), "qemu did not get OVMF");
      await driver.powerOff(vm);
      assert.deepEqual(await processesUsing(path.join(dir, "run")), []);
    } finally {
      await driver.destroy(vm);
      await rm(path.join(dir, "layers"), { recursive: true, force: true });
    }
  });

  it("keeps the UEFI variable store and TPM state with a layer and starts the VM built on that layer from them", async () => {
    const first = await driver.createVm(spec(dir, { firmware: "uefi", tpm: true }));
    const saved = path.join(dir, "layers", "top.uefi-vars");
    const savedTpm = path.join(dir, "layers", "top.tpm-state");
    const template = await readFile(findUefiFirmware(false).varsTemplate);
    let second: VmHandle | undefined;
    try {
      await driver.powerOn(first);
      // OVMF writes its boot entries while it starts: wait until the store is no longer the template.
      const vars = path.join(dir, "run", first.id, "OVMF_VARS.fd");
      for (const started = Date.now(); (await readFile(vars)).equals(template); await sleep(250)) {
        assert.ok(Date.now() - started < 60_000, "OVMF wrote no variable within 60 s");
      }
      await driver.powerOff(first);
      await driver.checkpoint(first, path.join(dir, "layers", "next.qcow2"), { saveFirmwareVars: saved, saveTpmState: savedTpm });
      assert.deepEqual(await readFile(saved), await readFile(vars));
      assert.ok(!(await readFile(saved)).equals(template));
      assert.deepEqual(await readFile(savedTpm), await readFile(path.join(dir, "run", first.id, "tpm", "tpm2-00.permall")));

      const disk = { path: path.join(dir, "layers", "after.qcow2"), baseLayer: path.join(dir, "layers", "top.qcow2"), firmwareVars: saved, tpmState: savedTpm };
      second = await driver.createVm(spec(dir, { firmware: "uefi", tpm: true, disk }));
      assert.deepEqual(await readFile(path.join(dir, "run", second.id, "OVMF_VARS.fd")), await readFile(saved));
      assert.deepEqual(await readFile(path.join(dir, "run", second.id, "tpm", "tpm2-00.permall")), await readFile(savedTpm));
      await driver.powerOn(second);
      await driver.powerOff(second);
    } finally {
      await driver.destroy(first);
      if (second) await driver.destroy(second);
      await rm(path.join(dir, "layers"), { recursive: true, force: true });
    }
  });

  it("reports a qemu that cannot start and leaves nothing running", async () => {
    const broken = new QemuDriver({ runtimeDir: path.join(dir, "run"), log: () => {}, accel: "tcg", env: {}, qemuBinary: "/bin/false" });
    const vm = await broken.createVm(spec(dir, { tpm: true }));
    try {
      await assert.rejects(broken.powerOn(vm), QemuStartError);
      assert.deepEqual(await processesUsing(path.join(dir, "run")), []);
    } finally {
      await broken.destroy(vm);
      await rm(path.join(dir, "layers"), { recursive: true, force: true });
    }
  });
});
