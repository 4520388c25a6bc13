/**
 * The QEMU driver end to end with the rebake test OS (build/testos/rebake-testos.iso, built by
 * scripts/build-testos.sh): unattended install from the ISO with NoCloud answers, power off, boot
 * from disk, then the guest agent in a real guest: exec, upload, a frozen running checkpoint.
 * Skipped when the ISO has not been built.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { QemuDriver } from "../../src/hypervisors/qemu/qemu-driver.ts";
import { createExec } from "../../src/util/exec.ts";
import { cidataIso } from "../support/cidata.ts";
import { testOsIso, TESTOS_BUILD_TIMEOUT_MS } from "../support/testos-iso.ts";

let ISO = "";
const INSTALL_TIMEOUT_MS = 180_000;
const BOOT_TIMEOUT_MS = 180_000;
const exec = createExec();

describe("QEMU driver with the rebake test OS", () => {
  before(async () => {
    ISO = await testOsIso();
  }, { timeout: TESTOS_BUILD_TIMEOUT_MS });

  it("installs unattended, boots from disk, runs commands through the agent and checkpoints while running", { timeout: INSTALL_TIMEOUT_MS + 2 * BOOT_TIMEOUT_MS }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rbt-"));
    const log: string[] = [];
    const driver = new QemuDriver({ runtimeDir: path.join(dir, "run"), log: (line) => log.push(line) });
    const disk = path.join(dir, "layers", "install.qcow2");
    const vm = await driver.createVm({ name: "testos", cpus: 2, memoryMiB: 512, diskGiB: 2, firmware: "bios", secureBoot: false, tpm: false, disk: { path: disk } });
    try {
      await driver.attachMedia(vm, [{ path: ISO, role: "install" }, { path: await cidataIso(dir), role: "answers" }]);
      let started = Date.now();
      await driver.powerOn(vm);
      await driver.waitPoweredOff(vm, INSTALL_TIMEOUT_MS);
      const serialLog = /serial log:\s+(\S+)/.exec(driver.access(vm).description)?.[1] ?? "";
      const serial = await readFile(serialLog, "utf8");
      assert.match(serial, /REBAKE-TESTOS-INSTALL: OK/, `install failed; serial log:\n${serial.slice(-2000)}`);
      log.push(`install took ${Date.now() - started} ms`);

      await driver.attachMedia(vm, []);
      started = Date.now();
      await driver.powerOn(vm);
      const guest = driver.guest(vm);
      await guest.waitReady(BOOT_TIMEOUT_MS).catch(async (error: Error) => {
        throw new Error(`${error.message}\nserial log:\n${(await readFile(serialLog, "utf8")).slice(-2000)}`);
      });
      log.push(`boot to agent took ${Date.now() - started} ms`);

      const result = await guest.exec("uname -s; echo oops >&2; exit 4", { shell: "sh", timeoutMs: 30_000 });
      assert.deepEqual(result, { exitCode: 4, stdout: "Linux\n", stderr: "oops\n" });

      const payload = randomBytes(100_000);
      const local = path.join(dir, "payload.bin");
      await writeFile(local, payload);
      assert.equal((await guest.upload(local, "/root/payload.bin")).sha256, createHash("sha256").update(payload).digest("hex"));

      const next = path.join(dir, "layers", "step-1.qcow2");
      await driver.checkpoint(vm, next);
      assert.ok(log.some((line) => /checkpoint of the running VM \((frozen|synced)\)/.test(line)), log.join("\n"));
      const { stdout } = await exec("qemu-img", ["info", "-U", "--backing-chain", "--output=json", next]);
      assert.deepEqual((JSON.parse(stdout) as { filename: string }[]).map((image) => image.filename), [next, disk]);
      assert.equal((await guest.exec("echo still writable > /root/after && cat /root/after", { shell: "sh", timeoutMs: 30_000 })).stdout, "still writable\n");

      await guest.shutdown();
      await driver.waitPoweredOff(vm, BOOT_TIMEOUT_MS);
    } finally {
      await driver.destroy(vm);
      await rm(dir, { recursive: true, force: true });
      process.stderr.write(`${log.join("\n")}\n`);
    }
  });
});
