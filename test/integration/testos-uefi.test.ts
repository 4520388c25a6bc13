/**
 * The rebake test OS under UEFI (OVMF from Debian's ovmf) for real under QEMU (TCG), with Secure
 * Boot off and on (Microsoft keys enrolled): the ISO boots through its El Torito EFI image (shim +
 * Debian's signed GRUB), the installer lays the disk out as GPT with an EFI system partition
 * holding the same signed chain at the removable-media path, and the disk boots under a fresh
 * variable store to a guest agent that answers, in the Secure Boot state it was asked for. Then
 * the product itself: `rebake build` of the demo recipe with `hardware.firmware: uefi` and
 * `hardware.secureBoot: true`, captured and verified.
 * The raw QEMU command lines are the ones testos/README.md documents for UEFI.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { main } from "../../src/cli/main.ts";
import { captureIo } from "../support/capture-io.ts";
import { QgaChannel } from "../../src/guest/qga/qga-channel.ts";
import { findUefiFirmware } from "../../src/hypervisors/qemu/firmware.ts";
import { manifestSchemaErrors } from "../../src/manifest/validate-manifest.ts";
import type { BuildManifest } from "../../src/manifest/model.ts";
import { createExec } from "../../src/util/exec.ts";
import { cidataIso, type Seed } from "../support/cidata.ts";
import { stopChild } from "../support/stop-child.ts";
import { placeTestOsIso } from "../support/testos-iso.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
/** Where scripts/build-testos.sh writes the ISO (its default --out), which the demo recipe reads. */
const TESTOS_OUT = path.join(REPO, "build/testos");
const DEMO_RECIPE = "recipes/linux-demo.yaml";
const BUILD_TIMEOUT_MS = 15 * 60_000;
const INSTALL_TIMEOUT_MS = 240_000;
const BOOT_TIMEOUT_MS = 180_000;
const COMMAND_TIMEOUT_MS = 30_000;
const E2E_TIMEOUT_MS = 10 * 60_000;
const SECTOR_BYTES = 512;
/** A small disk: the ESP and the installed system take under 100 MiB, and the raw copy is sparse. */
const DISK_SIZE = "1G";
const GPT_TYPE = { esp: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", linux: "0FC63DAF-8483-4772-8E79-3D69D8477DE4" } as const;
const AGENT_PORT = "org.qemu.guest_agent.0";
/** The ESP's removable-media directory: shim as BOOTX64.EFI, the GRUB it starts, GRUB's config. */
const ESP_BOOT_FILES = ["::/EFI/BOOT/BOOTX64.EFI", "::/EFI/BOOT/grub.cfg", "::/EFI/BOOT/grubx64.efi"];
const exec = createExec();
// mtools refuses images whose FAT geometry disagrees with its idea of a floppy unless told not to check.
const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: "1" };

interface Partition {
  readonly start: number;
  readonly size: number;
  readonly type: string;
  readonly name?: string;
}

/**
 * OVMF's read-only code plus this VM's own copy of the variable store, as the QEMU driver does;
 * Secure Boot needs SMM and the variable store flash marked secure (so only SMM code writes it).
 */
async function uefiArgs(dir: string, serialLog: string, secureBoot: boolean): Promise<string[]> {
  const firmware = findUefiFirmware(secureBoot);
  const vars = path.join(dir, `vars-${path.basename(serialLog, ".log")}.fd`);
  await copyFile(firmware.varsTemplate, vars);
  return [
    "-accel", "tcg", "-machine", secureBoot ? "q35,smm=on" : "q35", "-m", "512", "-smp", "2", "-display", "none", "-monitor", "none", "-serial", `file:${serialLog}`,
    ...(secureBoot ? ["-global", "driver=cfi.pflash01,property=secure,value=on"] : []),
    "-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${firmware.code}`,
    "-drive", `if=pflash,format=raw,unit=1,file=${vars}`,
  ];
}

function diskArgs(disk: string): string[] {
  return ["-drive", `if=none,id=hd0,file=${disk},format=qcow2`, "-device", "virtio-blk-pci,drive=hd0,bootindex=1"];
}

/** The GPT partitions of a disk image, read on the host from a raw copy. */
async function partitions(dir: string, disk: string, format: string): Promise<{ readonly raw: string; readonly label: string; readonly partitions: readonly Partition[] }> {
  const raw = path.join(dir, `${path.basename(disk)}.raw`);
  await exec("qemu-img", ["convert", "-f", format, "-O", "raw", disk, raw]);
  const { stdout } = await exec("sfdisk", ["--json", raw]);
  const table = (JSON.parse(stdout) as { partitiontable: { label: string; partitions: Partition[] } }).partitiontable;
  return { raw, label: table.label, partitions: table.partitions };
}

/** A file on the FAT file system at a byte offset of a raw image, through mtools. */
async function fatFile(raw: string, offset: number, file: string): Promise<string> {
  return (await exec("mtype", ["-i", `${raw}@@${offset}`, `::${file}`], { env: MTOOLS_ENV })).stdout;
}

async function fatList(raw: string, offset: number, dir: string): Promise<string[]> {
  return (await exec("mdir", ["-b", "-i", `${raw}@@${offset}`, `::${dir}`], { env: MTOOLS_ENV })).stdout.split("\n").filter(Boolean);
}

/** What the guest's kernel says about Secure Boot, and the lockdown it implies when on. */
const SECURE_BOOT_CASES = [
  { secureBoot: false, name: "off", dmesg: /Secure boot disabled/, lockdown: "[none]" },
  { secureBoot: true, name: "on", dmesg: /Secure boot enabled/, lockdown: "[integrity]" },
] as const;

describe("rebake test OS under UEFI (OVMF, Secure Boot off and on)", () => {
  let iso = "";
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "testos-uefi-"));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    const { stdout } = await exec("bash", [path.join(REPO, "scripts/build-testos.sh"), "--out", TESTOS_OUT], { timeoutMs: BUILD_TIMEOUT_MS });
    iso = stdout.trim().split("\n").at(-1) ?? "";
  }, { timeout: BUILD_TIMEOUT_MS });

  after(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  for (const sb of SECURE_BOOT_CASES) it(`Secure Boot ${sb.name}: installs GPT + an EFI system partition with shim + GRUB, then boots it under a fresh variable store to the guest agent`, { timeout: INSTALL_TIMEOUT_MS + BOOT_TIMEOUT_MS + 60_000 }, async (t) => {
    const dir = await tempDir();
    const seed: Seed = {
      metaData: "instance-id: iid-uefi-1\nlocal-hostname: rebake-uefi\n",
      userData: "#cloud-config\nhostname: rebake-uefi\npower_state:\n  mode: poweroff\n",
    };
    const cidata = await cidataIso(dir, seed);
    const disk = path.join(dir, "disk.qcow2");
    await exec("qemu-img", ["create", "-q", "-f", "qcow2", disk, DISK_SIZE]);
    const installLog = path.join(dir, "install.log");
    const installStarted = Date.now();
    await exec("qemu-system-x86_64", [
      ...(await uefiArgs(dir, installLog, sb.secureBoot)),
      // q35's AHCI ports hold one CD-ROM each.
      "-drive", `if=none,id=cd0,file=${iso},media=cdrom,readonly=on`, "-device", "ide-cd,drive=cd0,bus=ide.0,bootindex=0",
      "-drive", `if=none,id=cd1,file=${cidata},media=cdrom,readonly=on`, "-device", "ide-cd,drive=cd1,bus=ide.1",
      ...diskArgs(disk),
    ], { timeoutMs: INSTALL_TIMEOUT_MS });
    const serial = await readFile(installLog, "utf8");
    assert.match(serial, /REBAKE-TESTOS-INSTALL: OK hostname=rebake-uefi firmware=uefi disk=\/dev\/vda /, serial.slice(-2000));
    t.diagnostic(`UEFI (Secure Boot ${sb.name}) install (QEMU start to power off): ${Date.now() - installStarted} ms`);

    const layout = await partitions(dir, disk, "qcow2");
    assert.equal(layout.label, "gpt");
    assert.deepEqual(layout.partitions.map((p) => [p.type, p.name]), [[GPT_TYPE.esp, "ESP"], [GPT_TYPE.linux, "rebake-root"]]);
    const espOffset = layout.partitions[0]!.start * SECTOR_BYTES;
    assert.deepEqual((await fatList(layout.raw, espOffset, "/EFI/BOOT")).sort(), ESP_BOOT_FILES);
    assert.deepEqual((await fatList(layout.raw, espOffset, "/boot")).sort(), ["::/boot/initrd.gz", "::/boot/vmlinuz"]);
    const grubCfg = await fatFile(layout.raw, espOffset, "/EFI/BOOT/grub.cfg");
    const rootUuid = /^linux \/boot\/vmlinuz root=UUID=([0-9a-f-]{36}) .*console=ttyS0,115200/m.exec(grubCfg)?.[1];
    assert.ok(rootUuid, grubCfg);

    const bootLog = path.join(dir, "boot.log");
    const agentSocket = path.join(dir, "qga.sock");
    const bootStarted = Date.now();
    const qemu = spawn("qemu-system-x86_64", [
      ...(await uefiArgs(dir, bootLog, sb.secureBoot)),
      ...diskArgs(disk),
      "-device", "virtio-serial-pci",
      "-chardev", `socket,id=qga0,path=${agentSocket},server=on,wait=off`,
      "-device", `virtserialport,chardev=qga0,name=${AGENT_PORT}`,
    ], { stdio: "ignore" });
    const guest = new QgaChannel({ socketPath: agentSocket, guestOs: "linux" });
    try {
      await guest.waitReady(BOOT_TIMEOUT_MS).catch(async (error: Error) => {
        throw new Error(`${error.message}\nserial log:\n${(await readFile(bootLog, "utf8").catch(() => "")).slice(-2000)}`);
      });
      t.diagnostic(`UEFI (Secure Boot ${sb.name}) boot from disk to agent answering: ${Date.now() - bootStarted} ms`);
      const facts = await guest.exec("test -d /sys/firmware/efi && echo efi; cat /etc/hostname; tr ' ' '\\n' < /proc/cmdline | grep '^root='", { shell: "sh", timeoutMs: COMMAND_TIMEOUT_MS });
      assert.deepEqual(facts, { exitCode: 0, stdout: `efi\nrebake-uefi\nroot=UUID=${rootUuid}\n`, stderr: "" });
      // The kernel reads the SecureBoot variable at start-up; under Secure Boot it locks itself down
      // (integrity), and the agent and its virtio_console module (Debian-signed) still work.
      const secure = await guest.exec("dmesg | grep -i 'secure boot'; mount -t securityfs securityfs /sys/kernel/security 2>/dev/null; grep -o '\\[[a-z]*\\]' /sys/kernel/security/lockdown", { shell: "sh", timeoutMs: COMMAND_TIMEOUT_MS });
      assert.equal(secure.exitCode, 0, JSON.stringify(secure));
      assert.match(secure.stdout, sb.dmesg);
      assert.equal(secure.stdout.trim().split("\n").at(-1), sb.lockdown, secure.stdout);
      await guest.shutdown();
      await new Promise((resolve) => (qemu.exitCode !== null ? resolve(undefined) : qemu.once("exit", resolve)));
      assert.equal(qemu.exitCode, 0);
    } finally {
      await guest.close();
      await stopChild(qemu);
    }
  });

  it("rebake build of the demo recipe with hardware.firmware uefi and secureBoot true installs, captures a GPT vDisk and verifies it", { timeout: E2E_TIMEOUT_MS + 60_000 }, async (t) => {
    const dir = await tempDir();
    const recipe = path.join(dir, DEMO_RECIPE);
    await mkdir(path.dirname(recipe), { recursive: true });
    const yaml = await readFile(path.join(REPO, DEMO_RECIPE), "utf8");
    // The installer under OVMF needs more memory than the BIOS demo gives it (the recipe says so).
    const uefiYaml = yaml.replace(/^ {2}firmware: bios$/m, "  firmware: uefi\n  secureBoot: true").replace(/^ {2}memoryMiB: \d+$/m, "  memoryMiB: 384");
    assert.ok(uefiYaml.includes("  firmware: uefi\n") && uefiYaml.includes("  memoryMiB: 384\n"), `${DEMO_RECIPE} no longer has the lines "  firmware: bios" and "  memoryMiB: N": update this test's edit`);
    await writeFile(recipe, uefiYaml);
    await cp(path.join(REPO, "apps"), path.join(dir, "apps"), { recursive: true });
    await placeTestOsIso(dir, iso);

    const io = captureIo(dir, { ...process.env, REBAKE_CACHE_DIR: path.join(dir, "cache") });
    const started = Date.now();
    const code = await main(["build", DEMO_RECIPE, "--out", "out", "--timeout", "10m"], io);
    assert.equal(code, 0, `build failed:\n${io.all()}`);
    t.diagnostic(`rebake build + verify under UEFI with Secure Boot: ${Date.now() - started} ms`);
    assert.match(io.all(), /UEFI \S*OVMF_CODE\S*\.ms\.fd \(secure boot\)/, "the QEMU driver started the VMs with OVMF, Secure Boot on");

    const manifest = JSON.parse(await readFile(path.join(dir, "out/manifest.json"), "utf8")) as BuildManifest;
    assert.deepEqual(manifestSchemaErrors(manifest), []);
    assert.ok(manifest.verification?.passed, `verification: ${JSON.stringify(manifest.verification)}`);
    const vhdx = manifest.outputs.find((o) => o.kind === "vhdx");
    assert.ok(vhdx && vhdx.kind === "vhdx", `outputs: ${JSON.stringify(manifest.outputs)}`);
    const layout = await partitions(dir, path.join(dir, "out", vhdx.path), "vhdx");
    assert.equal(layout.label, "gpt");
    assert.deepEqual(layout.partitions.map((p) => p.type), [GPT_TYPE.esp, GPT_TYPE.linux]);
    assert.deepEqual((await fatList(layout.raw, layout.partitions[0]!.start * SECTOR_BYTES, "/EFI/BOOT")).sort(), ESP_BOOT_FILES);
  });
});
