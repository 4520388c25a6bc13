/**
 * Resuming a VM from the memory and device state saved with a checkpoint, with the rebake test OS
 * (build/testos/rebake-testos.iso, built by scripts/build-testos.sh): the guest continues where it
 * was (same boot, uptime goes on) instead of booting, sees the frozen layer's files, writes only
 * into the new child, and a state that does not load or does not match its sha256 falls back to a
 * boot. Skipped without the ISO.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { VmSpec } from "../../src/hypervisors/driver.ts";
import { QemuDriver } from "../../src/hypervisors/qemu/qemu-driver.ts";
import { cidataIso } from "../support/cidata.ts";
import { testOsIso, TESTOS_BUILD_TIMEOUT_MS } from "../support/testos-iso.ts";

let ISO = "";
const INSTALL_TIMEOUT_MS = 180_000;
const BOOT_TIMEOUT_MS = 180_000;
/** A restored guest answers at once; a boot of the test OS takes several seconds under TCG. */
const RESUME_AGENT_MS = 4_000;
const CLOCK_GAP_MS = 6_000;

async function sha256(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}

const spec = (name: string, disk: VmSpec["disk"]): VmSpec => ({ name, cpus: 2, memoryMiB: 512, diskGiB: 2, firmware: "bios", secureBoot: false, tpm: false, disk });

describe("QEMU driver resuming from a saved VM state", () => {
  before(async () => {
    ISO = await testOsIso();
  }, { timeout: TESTOS_BUILD_TIMEOUT_MS });

  it("continues the running guest on the frozen layer without a boot, and boots when the state does not load", { timeout: INSTALL_TIMEOUT_MS + 4 * BOOT_TIMEOUT_MS }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rbr-"));
    const log: string[] = [];
    const driver = new QemuDriver({ runtimeDir: path.join(dir, "run"), log: (line) => log.push(line) });
    const frozen = path.join(dir, "layers", "install.qcow2");
    const saved = path.join(dir, "layers", "install.vmstate");
    const vms = [];
    try {
      const first = await driver.createVm(spec("first", { path: frozen }));
      vms.push(first);
      await driver.attachMedia(first, [{ path: ISO, role: "install" }, { path: await cidataIso(dir), role: "answers" }]);
      await driver.powerOn(first);
      await driver.waitPoweredOff(first, INSTALL_TIMEOUT_MS);
      await driver.attachMedia(first, []);
      let started = Date.now();
      assert.deepEqual(await driver.powerOn(first), { resumedFromMemory: false });
      const guest = driver.guest(first);
      await guest.waitReady(BOOT_TIMEOUT_MS);
      log.push(`boot to agent took ${Date.now() - started} ms`);
      const run = async (g: typeof guest, script: string) => (await g.exec(script, { shell: "sh", timeoutMs: 30_000 })).stdout.trim();
      await run(guest, "echo before-checkpoint > /root/marker && sync");
      const bootId = await run(guest, "cat /proc/sys/kernel/random/boot_id");
      const uptimeBefore = Number((await run(guest, "cat /proc/uptime")).split(" ")[0]);

      started = Date.now();
      const checkpoint = await driver.checkpoint(first, path.join(dir, "layers", "child-1.qcow2"), { saveState: saved });
      assert.deepEqual(checkpoint, { layer: path.resolve(frozen), stateSaved: true }, "the frozen layer is the file the VM wrote until now");
      log.push(`checkpoint with state took ${Date.now() - started} ms`);
      assert.ok(existsSync(saved), log.join("\n"));
      assert.equal(await run(guest, "cat /root/marker"), "before-checkpoint", "the checkpointed VM runs on");
      await driver.destroy(first);
      // Long enough that a guest clock left at the save would show.
      await sleep(CLOCK_GAP_MS);
      const frozenSha = await sha256(frozen);

      const second = await driver.createVm(spec("second", { path: path.join(dir, "layers", "child-2.qcow2"), baseLayer: frozen, resumeState: { path: saved, sha256: await sha256(saved) } }));
      vms.push(second);
      started = Date.now();
      assert.deepEqual(await driver.powerOn(second), { resumedFromMemory: true }, log.join("\n"));
      const resumed = driver.guest(second);
      await resumed.waitReady(RESUME_AGENT_MS);
      log.push(`resume to agent took ${Date.now() - started} ms`);
      assert.equal(await run(resumed, "cat /proc/sys/kernel/random/boot_id"), bootId, "the same boot goes on");
      assert.ok(Number((await run(resumed, "cat /proc/uptime")).split(" ")[0]) > uptimeBefore, "uptime continues");
      assert.equal(await run(resumed, "cat /root/marker"), "before-checkpoint");
      const guestClock = Number(await run(resumed, "date +%s"));
      // Between the resume and this read on the host's clock (whole seconds either way): a clock
      // left at the save would be CLOCK_GAP_MS behind the resume.
      const resumedAt = Math.floor(started / 1000);
      const readBy = Math.ceil(Date.now() / 1000);
      assert.ok(guestClock >= resumedAt && guestClock <= readBy, `the guest clock is set to now after the resume: got ${new Date(guestClock * 1000).toISOString()}, resumed at ${new Date(resumedAt * 1000).toISOString()}`);
      assert.equal(await run(resumed, "echo after-resume > /root/after && sync && cat /root/after"), "after-resume", "filesystems are thawed");
      await driver.powerOff(second);
      assert.equal(await sha256(frozen), frozenSha, "writes after the resume land in the child only");

      // A state that would load but is not the one its marker lists: the guest never runs from it.
      const listed = createHash("sha256").update("what the marker listed").digest("hex");
      const swapped = await driver.createVm(spec("swapped", { path: path.join(dir, "layers", "child-swapped.qcow2"), baseLayer: frozen, resumeState: { path: saved, sha256: listed } }));
      vms.push(swapped);
      assert.deepEqual(await driver.powerOn(swapped), { resumedFromMemory: false });
      assert.ok(log.some((line) => /did not load \(its content does not match the sha256 .*booting from the layer/.test(line)), log.join("\n"));
      assert.equal(existsSync(saved), false, "a state that does not match is removed");
      await driver.destroy(swapped);

      await writeFile(saved, "not a vm state");
      const third = await driver.createVm(spec("third", { path: path.join(dir, "layers", "child-3.qcow2"), baseLayer: frozen, resumeState: { path: saved, sha256: await sha256(saved) } }));
      vms.push(third);
      assert.deepEqual(await driver.powerOn(third), { resumedFromMemory: false });
      assert.equal(log.filter((line) => /did not load .* booting from the layer/.test(line)).length, 2, log.join("\n"));
      assert.equal(existsSync(saved), false, "a state that does not load is removed");
      const booted = driver.guest(third);
      await booted.waitReady(BOOT_TIMEOUT_MS);
      assert.notEqual(await run(booted, "cat /proc/sys/kernel/random/boot_id"), bootId, "a fresh boot");
      assert.equal(await run(booted, "cat /root/marker"), "before-checkpoint");
    } finally {
      for (const vm of vms) await driver.destroy(vm);
      await rm(dir, { recursive: true, force: true });
      process.stderr.write(`${log.join("\n")}\n`);
    }
  });
});
