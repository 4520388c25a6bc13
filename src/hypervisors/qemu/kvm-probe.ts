/**
 * Decides between KVM and TCG. /dev/kvm can exist and accept a VM yet hang once a vCPU runs (nested
 * virtualisation on some hosts), so the probe boots SeaBIOS under KVM and waits, with a timeout,
 * for it to finish POST; anything else falls back to TCG. The answer is cached per binary, and on
 * disk per kernel and QEMU version when a cache dir is given.
 */
import { spawn as nodeSpawn } from "node:child_process";
import { cachedAccelChoice } from "./accel-cache.ts";

export type Accel = "kvm" | "tcg";

export interface AccelChoice {
  readonly accel: Accel;
  /** Why, for the driver's log. */
  readonly reason: string;
  /** False when the probe could not run at all (nothing learnt about KVM): never kept on disk. */
  readonly conclusive?: boolean;
}

/** Environment variable that skips the probe: REBAKE_ACCEL=kvm|tcg. */
export const ACCEL_ENV = "REBAKE_ACCEL";
/**
 * A healthy KVM (and TCG) finishes SeaBIOS POST in about 0.1 s. On nested hosts where KVM exits are
 * pathologically slow it takes seconds and an OS install would crawl or hang, so TCG wins there.
 */
export const KVM_PROBE_TIMEOUT_MS = 2_000;
/** SeaBIOS prints this on its debug port when POST found nothing to boot: the vCPU really ran. */
const POST_DONE_MARKER = "No bootable device";
/** SeaBIOS's debug output port on QEMU. */
const SEABIOS_DEBUG_PORT = "0x402";

export interface KvmProbeOptions {
  readonly qemuBinary?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly spawn?: typeof nodeSpawn;
  readonly timeoutMs?: number;
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
function qemuVersion(binary: string, spawn: typeof nodeSpawn): Promise<string> {
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

/** Boots SeaBIOS under KVM with no disks and waits for the end of POST. Never rejects. */
export function probeKvm(options: KvmProbeOptions = {}): Promise<AccelChoice> {
  const spawn = options.spawn ?? nodeSpawn;
  const binary = options.qemuBinary ?? "qemu-system-x86_64";
  const timeoutMs = options.timeoutMs ?? KVM_PROBE_TIMEOUT_MS;
  const args = [
    "-accel", "kvm", "-machine", "pc", "-nodefaults", "-display", "none", "-m", "32",
    "-chardev", "stdio,id=dbg", "-device", `isa-debugcon,iobase=${SEABIOS_DEBUG_PORT},chardev=dbg`,
  ];
  return new Promise((resolve) => {
    let output = "";
    let errors = "";
    let settled = false;
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    const finish = (choice: AccelChoice) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // The probe VM never stops by itself: SIGKILL, since a hung KVM ioctl ignores SIGTERM.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      resolve(choice);
    };
    const timer = setTimeout(
      () => finish({ accel: "tcg", reason: `KVM did not finish a SeaBIOS POST within ${timeoutMs} ms (it hangs or is far slower than TCG here); using TCG` }),
      timeoutMs,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("latin1");
      if (output.includes(POST_DONE_MARKER)) finish({ accel: "kvm", reason: "KVM ran a SeaBIOS POST" });
    });
    child.stderr?.on("data", (chunk: Buffer) => (errors += chunk.toString("utf8")));
    child.on("error", (error) => finish({ accel: "tcg", reason: `KVM probe could not start ${binary}: ${error.message}; using TCG`, conclusive: false }));
    child.on("exit", (code) =>
      finish({ accel: "tcg", reason: `KVM is not usable (${binary} exited with ${code}: ${errors.trim().split("\n").pop() ?? ""}); using TCG` }),
    );
  });
}
