/**
 * The published vDisk boots as a streamed, read-only disk: the rebake test OS is installed under
 * QEMU (TCG), captured into a VHDX with rebake's capture, then a VM without a disk of its own
 * network-boots (iPXE over QEMU's TFTP) into the vDisk streamed by `qemu-nbd -r -f vhdx`, with a
 * throwaway write cache, and its guest agent answers. Then the same for a vDisk version: a change
 * written as a differencing `.avhdx` against that vDisk, streamed as base + delta.
 */
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { IPXE_SCRIPT, netbootCheck } from "../../src/boot/netboot-check.ts";
import { captureVhdx } from "../../src/capture/vhdx-capture.ts";
import { captureDifferencingVhdx } from "../../src/capture/vhdx-diff-capture.ts";
import { createHash } from "node:crypto";
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
/** The installed disk and its captured vDisk, from the first test: the version's parent. */
let installed: { golden: string; vdisk: string } | undefined;

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
  installed = { golden, vdisk };
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

/** 1 MiB near the end of the 2 GiB disk: free space of the installed filesystem, clear of a GPT backup. */
const CHANGE_OFFSET = 2 * 1024 ** 3 - 4 * 1024 ** 2;

it("a diskless VM network-boots a vDisk version streamed as base + delta, and reads the version's bytes", { timeout: BOOT_TIMEOUT_MS + 120_000 }, async () => {
  assert.ok(installed, "the first test installed and captured the parent vDisk");
  const changed = join(dir, "changed.qcow2");
  await exec("qemu-img", ["create", "-q", "-f", "qcow2", "-b", installed.golden, "-F", "qcow2", changed]);
  await exec("qemu-io", ["-c", `write -P 0x5a ${CHANGE_OFFSET} 1M`, changed]);
  const version = join(dir, "pvs-target.1.avhdx");
  const written = await captureDifferencingVhdx({ path: changed }, { path: installed.vdisk, relativePath: "pvs-target.vhdx" }, version, { exec, changes: { kind: "layers", previous: { path: installed.golden } } });
  assert.equal(written.changedBytes, 1024 * 1024);
  const work = join(dir, "netboot-version");
  await mkdir(work);
  const result = await netbootCheck({ vdisk: version, workDir: work, exec, bootTimeoutMs: BOOT_TIMEOUT_MS, guestCommand: `dd if=/dev/vda bs=1M skip=${CHANGE_OFFSET / 1024 ** 2} count=1 2>/dev/null | sha256sum` });
  assert.deepEqual(result.chain, [version, installed.vdisk]);
  assert.match(result.kernelCommandLine, /root=/);
  assert.equal(result.guestOutput?.split(" ")[0], createHash("sha256").update(Buffer.alloc(1024 * 1024, 0x5a)).digest("hex"), "the guest reads the version's bytes through the chain");
});
