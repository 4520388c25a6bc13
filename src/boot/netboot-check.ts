/**
 * The local end-to-end proof that a published vDisk boots the way PVS targets boot it: a QEMU VM
 * with no disk of its own network-boots (QEMU's built-in PXE: iPXE gets its script over the user
 * network's TFTP), and the script boots the vDisk, which the host streams read-only over NBD
 * (`qemu-nbd -r -f vhdx`). Every write lands in a throwaway write cache (a qcow2 overlay on the
 * NBD export), like a PVS device's cache. The check passes when the guest agent answers, a file
 * written in the guest lands in the cache, and the vDisk's sha256 has not changed.
 *
 * The network card is first in the boot order; the vDisk is second only because SeaBIOS maps
 * just the disks in its boot list as BIOS drives (with `-boot strict=on` and the NIC alone,
 * iPXE's sanboot finds no drive 0x80). So the agent answering is not proof enough: with
 * `graphics=off` SeaBIOS mirrors the text console (iPXE's messages) to the serial port, and the
 * check requires iPXE's lines for the TFTP download and the SAN boot in the serial log.
 *
 * A vDisk version (a differencing `.avhdx` with its parents beside it) is streamed as its whole
 * chain by rebake's own NBD server (nbd-chain-server.ts): qemu-nbd refuses differencing VHDX.
 */
import { spawn as nodeSpawn, type ChildProcess } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { VhdxChain } from "../capture/vhdx-reader.ts";
import { sha256File } from "../util/hash-file.ts";
import { startChainNbdServer, type ChainNbdServer } from "./nbd-chain-server.ts";
import { QgaChannel } from "../guest/qga/qga-channel.ts";
import type { Exec } from "../util/exec.ts";
import { acceptsConnection, freePort } from "../util/local-port.ts";

/** The iPXE script the TFTP server hands out: boot BIOS drive 0x80, the streamed vDisk. */
export const IPXE_SCRIPT = "#!ipxe\necho rebake netboot: booting the streamed vDisk\nsanboot --no-describe --drive 0x80\n";
export const IPXE_SCRIPT_NAME = "rebake.ipxe";
/** iPXE's lines for the TFTP download of the script and the boot of the vDisk. */
export const NETBOOT_EVIDENCE = [`${IPXE_SCRIPT_NAME}... ok`, "Booting from SAN device 0x80"] as const;
const NBD_EXPORT = "vdisk";
const AGENT_PORT = "org.qemu.guest_agent.0";
const PORT_WAIT_MS = 10_000;
const PROBE_FILE = "/var/tmp/rebake-netboot-probe";
const PROBE_EXEC_TIMEOUT_MS = 30_000;

export class NetbootCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface NetbootCheckOptions {
  /** The VHDX as published into a store, or a version (`.avhdx`) with its parents beside it. */
  readonly vdisk: string;
  /** Scratch directory: TFTP root, write cache, sockets, serial log. The caller removes it. */
  readonly workDir: string;
  readonly exec: Exec;
  /** How long the boot may take until the agent answers (TCG is slow). */
  readonly bootTimeoutMs: number;
  readonly accel?: "tcg" | "kvm";
  readonly signal?: AbortSignal;
  /** @default node:child_process spawn */
  readonly spawn?: typeof nodeSpawn;
  /** A shell command run in the booted guest after the probe; its stdout is returned. */
  readonly guestCommand?: string;
}

export interface NetbootCheckResult {
  readonly bootMs: number;
  /** `/proc/cmdline` of the booted guest. */
  readonly kernelCommandLine: string;
  /** Bytes the guest wrote into the throwaway cache. */
  readonly writeCacheBytes: number;
  readonly vdiskSha256: string;
  /** stdout of `guestCommand`, when given. */
  readonly guestOutput?: string;
  /** The files streamed, the version first, then each parent down to the base. */
  readonly chain: readonly string[];
}

/** sha256 of every file of the chain, in chain order. */
async function chainHashes(files: readonly string[]): Promise<string[]> {
  return Promise.all(files.map((file) => sha256File(file)));
}

export async function netbootCheck(options: NetbootCheckOptions): Promise<NetbootCheckResult> {
  const spawn = options.spawn ?? nodeSpawn;
  const { workDir, exec } = options;
  const chain = await VhdxChain.open(options.vdisk);
  const files = chain.files.map((f) => f.path);
  const before = await chainHashes(files);
  const tftp = join(workDir, "tftp");
  await exec("mkdir", ["-p", tftp]);
  await writeFile(join(tftp, IPXE_SCRIPT_NAME), IPXE_SCRIPT);
  const port = await freePort();
  const children: ChildProcess[] = [];
  let chainServer: ChainNbdServer | undefined;
  try {
    if (files.length > 1) {
      chainServer = await startChainNbdServer(chain, port, NBD_EXPORT);
    } else {
      const nbd = spawn("qemu-nbd", ["--read-only", "--format=vhdx", "--persistent", "--shared=4", `--bind=127.0.0.1`, `--port=${port}`, `--export-name=${NBD_EXPORT}`, options.vdisk], { stdio: ["ignore", "ignore", "pipe"] });
      children.push(nbd);
      await waitForPort(port, nbd, "qemu-nbd");
    }
    const cache = join(workDir, "write-cache.qcow2");
    await exec("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", `nbd://127.0.0.1:${port}/${NBD_EXPORT}`, cache]);
    const cacheBefore = (await stat(cache)).size;
    const agentSocket = join(workDir, "qga.sock");
    const serialLog = join(workDir, "serial.log");
    const started = Date.now();
    const qemu = spawn("qemu-system-x86_64", [
      "-accel", options.accel ?? "tcg", "-machine", "pc,graphics=off", "-m", "512", "-smp", "2", "-display", "none", "-monitor", "none", "-serial", `file:${serialLog}`,
      "-netdev", `user,id=n0,restrict=on,tftp=${tftp},bootfile=${IPXE_SCRIPT_NAME}`, "-device", "virtio-net-pci,netdev=n0,bootindex=0",
      "-drive", `if=none,id=vd0,file=${cache},format=qcow2`, "-device", "virtio-blk-pci,drive=vd0,bootindex=1",
      "-device", "virtio-serial-pci",
      "-chardev", `socket,id=qga0,path=${agentSocket},server=on,wait=off`,
      "-device", `virtserialport,chardev=qga0,name=${AGENT_PORT}`,
    ], { stdio: ["ignore", "ignore", "pipe"] });
    children.push(qemu);
    let qemuErr = "";
    qemu.stderr?.on("data", (d: Buffer) => (qemuErr += d.toString()));
    const channel = new QgaChannel({ socketPath: agentSocket, guestOs: "linux" });
    try {
      await channel.waitReady(options.bootTimeoutMs, options.signal);
    } catch (error) {
      throw new NetbootCheckError(`the network-booted VM's guest agent did not answer within ${options.bootTimeoutMs} ms (${(error as Error).message})${qemuErr ? `; qemu: ${qemuErr.trim()}` : ""}; read ${serialLog}`);
    }
    const bootMs = Date.now() - started;
    const screen = consoleText(await readFile(serialLog, "latin1"));
    const missing = NETBOOT_EVIDENCE.filter((line) => !screen.includes(line));
    if (missing.length) throw new NetbootCheckError(`the VM booted, but not through the network: ${serialLog} lacks iPXE's ${missing.map((m) => JSON.stringify(m)).join(" and ")}; check that ipxe-qemu is installed (QEMU's PXE ROMs)`);
    const probe = await channel.exec(`cat /proc/cmdline && dd if=/dev/urandom of=${PROBE_FILE} bs=1M count=4 2>/dev/null && sync && echo written`, { shell: "sh", timeoutMs: PROBE_EXEC_TIMEOUT_MS });
    if (probe.exitCode !== 0 || !probe.stdout.includes("written")) throw new NetbootCheckError(`writing to the streamed vDisk in the guest failed (exit ${probe.exitCode}): ${probe.stderr.trim()}`);
    let guestOutput: string | undefined;
    if (options.guestCommand) {
      const run = await channel.exec(options.guestCommand, { shell: "sh", timeoutMs: PROBE_EXEC_TIMEOUT_MS });
      if (run.exitCode !== 0) throw new NetbootCheckError(`the guest command failed (exit ${run.exitCode}): ${run.stderr.trim()}`);
      guestOutput = run.stdout;
    }
    await channel.close();
    const writeCacheBytes = (await stat(cache)).size - cacheBefore;
    qemu.kill("SIGTERM");
    await exited(qemu);
    const after = await chainHashes(files);
    const changed = files.filter((_, i) => after[i] !== before[i]);
    if (changed.length) throw new NetbootCheckError(`${changed.join(", ")} changed while streamed (sha256 ${changed.map((f) => `${before[files.indexOf(f)]} -> ${after[files.indexOf(f)]}`).join(", ")}); the export must be read-only`);
    return { bootMs, kernelCommandLine: probe.stdout.split("\n")[0]?.trim() ?? "", writeCacheBytes, vdiskSha256: after[0]!, chain: files, ...(guestOutput === undefined ? {} : { guestOutput }) };
  } finally {
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited(child);
      }
    }
    await chainServer?.close();
    await chain.close();
  }
}

/** The serial console as text: sgabios positions every character with an ANSI escape. */
export function consoleText(serial: string): string {
  return serial.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
}

async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + PORT_WAIT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new NetbootCheckError(`${what} exited with ${child.exitCode}: ${stderr.trim()}`);
    if (await acceptsConnection(port)) return;
    await sleep(100);
  }
  throw new NetbootCheckError(`${what} did not listen on 127.0.0.1:${port} within ${PORT_WAIT_MS} ms: ${stderr.trim()}`);
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await Promise.race([new Promise((resolve) => child.once("exit", resolve)), sleep(5000).then(() => child.kill("SIGKILL"))]);
}
