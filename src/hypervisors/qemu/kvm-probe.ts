/**
 * Decides between KVM and TCG by proving what a build needs: a 64-bit kernel reaching user space.
 * /dev/kvm can exist, accept a VM and even run SeaBIOS to the end of POST, yet stall a 64-bit
 * kernel right after real mode (nested virtualisation on some hosts), or hang at once on others.
 * So the probe boots a small Linux payload (the test OS kernel and an init that prints a marker
 * on the serial port, see testos/kvm-probe/) under KVM within a bound, then the same payload
 * under TCG for no longer than KVM took: KVM is chosen only when it reached the marker and TCG
 * did not get there as fast. Without a payload nothing is proven, so the answer is TCG and is not
 * kept. The answer is cached per binary, and on disk per kernel and QEMU version.
 */
import { spawn as nodeSpawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cachedAccelChoice } from "./accel-cache.ts";

export type Accel = "kvm" | "tcg";

export interface AccelChoice {
  readonly accel: Accel;
  /** Why, for the driver's log. */
  readonly reason: string;
  /** False when the probe could not decide (nothing learnt about KVM): never kept on disk. */
  readonly conclusive?: boolean;
}

/** Environment variable that skips the probe: REBAKE_ACCEL=kvm|tcg. */
export const ACCEL_ENV = "REBAKE_ACCEL";
/**
 * How long KVM gets to bring the payload to user space. A healthy KVM needs well under a second;
 * TCG needs a few (most of it decompressing the kernel), so a KVM slower than this is no gain.
 */
export const KVM_BOOT_BOUND_MS = 8_000;
/** The payload's init prints this, then the machine word size, once it runs in user space. */
export const PROBE_MARKER = "REBAKE-KVM-PROBE";
/** What the marker line must say for the kernel to count as 64-bit. */
const SIXTY_FOUR_BIT = `${PROBE_MARKER} x86_64`;
const PROBE_MEMORY_MIB = 128;
/** Console lines kept to explain a probe that did not reach user space. */
const TAIL_LINES = 3;

/** The probe's kernel and initramfs (scripts/build-testos.sh writes them). */
export interface ProbePayload {
  readonly kernel: string;
  readonly initrd: string;
}

/** Where scripts/build-testos.sh leaves the payload in a clone: build/testos/kvm-probe/. */
export const DEFAULT_PROBE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../build/testos/kvm-probe");

/** The payload in `dir`, when both files are there. */
export function findProbePayload(dir: string = DEFAULT_PROBE_DIR): ProbePayload | undefined {
  const payload = { kernel: path.join(dir, "vmlinuz"), initrd: path.join(dir, "init.cpio.gz") };
  return existsSync(payload.kernel) && existsSync(payload.initrd) ? payload : undefined;
}

export interface KvmProbeOptions {
  readonly qemuBinary?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly spawn?: typeof nodeSpawn;
  /** @default findProbePayload() */
  readonly payload?: ProbePayload | null;
  /** @default KVM_BOOT_BOUND_MS */
  readonly kvmBoundMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Keeps the answer in `<cacheDir>/accel/`, keyed by kernel and QEMU version. @default memory only */
  readonly cacheDir?: string;
}

/** `qemu --version` answers at once; a binary that does not is treated as an unknown version. */
const VERSION_TIMEOUT_MS = 10_000;

export class InvalidAccelError extends Error {
  constructor(value: string) {
    super(`${ACCEL_ENV} must be "kvm" or "tcg", got: "${value}"; unset it to probe`);
    this.name = new.target.name;
  }
}

const cache = new Map<string, Promise<AccelChoice>>();

/** The accelerator to use: the REBAKE_ACCEL override, else the cached or fresh probe result. */
export function chooseAccel(options: KvmProbeOptions = {}): Promise<AccelChoice> {
  const env = options.env ?? process.env;
  const override = env[ACCEL_ENV];
  if (override !== undefined && override !== "") {
    if (override !== "kvm" && override !== "tcg") return Promise.reject(new InvalidAccelError(override));
    return Promise.resolve({ accel: override, reason: `${ACCEL_ENV}=${override}` });
  }
  const binary = options.qemuBinary ?? "qemu-system-x86_64";
  const key = `${binary}\n${options.cacheDir ?? ""}`;
  let answer = cache.get(key);
  if (!answer) {
    const dir = options.cacheDir;
    answer = dir
      ? cachedAccelChoice(() => probeKvm(options), { dir, qemuVersion: () => qemuVersion(binary, options.spawn ?? nodeSpawn) })
      : probeKvm(options);
    cache.set(key, answer);
  }
  return answer;
}

/** The first line of `<binary> --version`, or "" when it cannot be read. */
export function qemuVersion(binary: string, spawn: typeof nodeSpawn = nodeSpawn): Promise<string> {
  return new Promise((resolve) => {
    let output = "";
    const child = spawn(binary, ["--version"], { stdio: ["ignore", "pipe", "ignore"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), VERSION_TIMEOUT_MS);
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.on("error", () => resolve(""));
    child.on("close", () => {
      clearTimeout(timer);
      resolve(output.split("\n")[0]?.trim() ?? "");
    });
  });
}

/** Boots the payload under KVM, then under TCG for as long as KVM took. Never rejects. */
export async function probeKvm(options: KvmProbeOptions = {}): Promise<AccelChoice> {
  const payload = options.payload === undefined ? findProbePayload() : options.payload;
  if (!payload) {
    return {
      accel: "tcg",
      reason: `no kernel to prove KVM with (build/testos/kvm-probe/ is missing: run scripts/build-testos.sh); using TCG until KVM is proven`,
      conclusive: false,
    };
  }
  const kvmBound = options.kvmBoundMs ?? KVM_BOOT_BOUND_MS;
  const kvm = await bootPayload("kvm", payload, kvmBound, options);
  if (kvm.kind !== "reached") {
    if (kvm.kind === "error") return { accel: "tcg", reason: `KVM probe could not start ${kvm.detail}; using TCG`, conclusive: false };
    if (kvm.kind === "exited") return { accel: "tcg", reason: `KVM is not usable (${kvm.detail}); using TCG` };
    return { accel: "tcg", reason: `KVM did not boot a 64-bit kernel to user space within ${seconds(kvmBound)} (${kvm.detail}); using TCG` };
  }
  // TCG only has to be as fast as KVM to win: it never needs more time than KVM took.
  const tcg = await bootPayload("tcg", payload, Math.max(kvm.ms, 1), options);
  if (tcg.kind === "reached") {
    return { accel: "tcg", reason: `KVM booted a 64-bit kernel to user space in ${seconds(kvm.ms)}, but TCG as fast (${seconds(tcg.ms)}); using TCG` };
  }
  return { accel: "kvm", reason: `KVM booted a 64-bit kernel to user space in ${seconds(kvm.ms)} (TCG did not within that time); using KVM` };
}

type BootOutcome =
  | { readonly kind: "reached"; readonly ms: number }
  | { readonly kind: "timeout" | "exited" | "error"; readonly detail: string };

/** One boot of the payload; kills the VM as soon as the outcome is known. */
function bootPayload(accel: Accel, payload: ProbePayload, boundMs: number, options: KvmProbeOptions): Promise<BootOutcome> {
  const spawn = options.spawn ?? nodeSpawn;
  const now = options.now ?? Date.now;
  const binary = options.qemuBinary ?? "qemu-system-x86_64";
  const args = [
    "-accel", accel, "-machine", "pc", "-nodefaults", "-display", "none", "-m", String(PROBE_MEMORY_MIB), "-no-reboot",
    "-kernel", payload.kernel, "-initrd", payload.initrd,
    // Not quiet: when the kernel stalls, its last lines ("Probing EDD...") say where.
    "-append", "console=ttyS0 panic=-1",
    "-serial", "stdio",
  ];
  const started = now();
  return new Promise((resolve) => {
    let console = "";
    let errors = "";
    let settled = false;
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    const finish = (outcome: BootOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A hung KVM ioctl ignores SIGTERM.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: "timeout", detail: lastLines(console) }), boundMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      console += chunk.toString("latin1");
      if (console.includes(SIXTY_FOUR_BIT)) finish({ kind: "reached", ms: now() - started });
    });
    child.stderr?.on("data", (chunk: Buffer) => (errors += chunk.toString("utf8")));
    child.on("error", (error) => finish({ kind: "error", detail: `${binary}: ${error.message}` }));
    child.on("exit", (code, signal) =>
      finish({ kind: "exited", detail: `${binary} -accel ${accel} exited with ${signal ?? code}: ${errors.trim().split("\n").pop() ?? ""}`.trim() }),
    );
  });
}

function lastLines(console: string): string {
  const lines = console.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).slice(-TAIL_LINES);
  return lines.length === 0 ? "no console output at all" : `last console lines: ${lines.map((l) => JSON.stringify(l)).join(" ")}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
