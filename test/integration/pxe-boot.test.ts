/**
 * The published vDisk boots as a streamed, read-only disk: the rebake test OS is installed under
 * QEMU (TCG), captured into a VHDX with rebake's capture, then a VM without a disk of its own
 * network-boots (iPXE over QEMU's TFTP) into the vDisk streamed by `qemu-nbd -r -f vhdx`, with a
 * throwaway write cache, and its guest agent answers.
 */
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { IPXE_SCRIPT, netbootCheck } from "../../src/boot/netboot-check.ts";
import { captureVhdx } from "../../src/capture/vhdx-capture.ts";
import { main } from "../../src/cli/main.ts";
import { createExec } from "../../src/util/exec.ts";
import { cidataIso } from "../support/cidata.ts";

const REPO = resolve(import.meta.dirname, "../..");
const BUILD_TIMEOUT_MS = 15 * 60_000;
const INSTALL_TIMEOUT_MS = 240_000;
const BOOT_TIMEOUT_MS = 240_000;
const exec = createExec();
let dir: string;
let iso: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rebake-pxe-"));
  const { stdout } = await exec("bash", [join(REPO, "scripts/build-testos.sh")], { timeoutMs: BUILD_TIMEOUT_MS });
  iso = stdout.trim().split("\n").at(-1) ?? "";
}, { timeout: BUILD_TIMEOUT_MS });

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function installTestOs(): Promise<string> {
  const cidata = await cidataIso(dir, {
    metaData: "instance-id: rebake-pxe\nlocal-hostname: pvs-target\n",
    userData: "#cloud-config\nhostname: pvs-target\npower_state: {mode: poweroff}\n",
  });
  const disk = join(dir, "golden.qcow2");
  const serial = join(dir, "install.log");
  await exec("qemu-img", ["create", "-q", "-f", "qcow2", disk, "2G"]);
  await exec("qemu-system-x86_64", [
    "-accel", "tcg", "-machine", "pc", "-m", "512", "-smp", "2", "-display", "none", "-monitor", "none", "-serial", `file:${serial}`,
    "-drive", `if=none,id=cd0,file=${iso},media=cdrom,readonly=on`, "-device", "ide-cd,drive=cd0,bootindex=0",
    "-drive", `if=none,id=cd1,file=${cidata},media=cdrom,readonly=on`, "-device", "ide-cd,drive=cd1",
    "-drive", `if=none,id=hd0,file=${disk},format=qcow2`, "-device", "virtio-blk-pci,drive=hd0,bootindex=1",
  ], { timeoutMs: INSTALL_TIMEOUT_MS });
  const log = await readFile(serial, "utf8");
  assert.match(log, /REBAKE-TESTOS-INSTALL: OK hostname=pvs-target /, log.slice(-2000));
  return disk;
}

it("a diskless VM network-boots the captured vDisk streamed read-only, and its guest agent answers", { timeout: INSTALL_TIMEOUT_MS + BOOT_TIMEOUT_MS + 120_000 }, async () => {
  const golden = await installTestOs();
  const vdisk = join(dir, "pvs-target.vhdx");
  const captured = await captureVhdx({ path: golden }, vdisk, { exec });
  const work = join(dir, "netboot");
  await mkdir(work);
  const result = await netbootCheck({ vdisk, workDir: work, exec, bootTimeoutMs: BOOT_TIMEOUT_MS });
  assert.match(result.kernelCommandLine, /root=/);
  assert.ok(result.writeCacheBytes >= 4 * 1024 * 1024, `the guest's 4 MiB write went to the cache (${result.writeCacheBytes} bytes)`);
  assert.equal(result.vdiskSha256, captured.sha256, "the vDisk is unchanged after the boot");
  assert.match(IPXE_SCRIPT, /sanboot --no-describe --drive 0x80/);

  // The same check from the command line.
  let out = "";
  const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (out += t), cwd: dir, env: {}, isTty: false, signal: new AbortController().signal };
  assert.equal(await main(["boot", "--netboot-check", "pvs-target.vhdx", "--json"], io), 0, out);
  assert.equal((JSON.parse(out) as { passed: boolean }).passed, true);
});
