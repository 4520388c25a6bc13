/**
 * The KVM probe's answer kept on disk, so each build does not pay for it again (here /dev/kvm hangs
 * and the probe waits out its whole timeout every time). The answer depends on the host kernel
 * (and its KVM module) and on the QEMU binary, so those name the file: a kernel or QEMU upgrade
 * probes afresh.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { release } from "node:os";
import path from "node:path";
import type { AccelChoice } from "./kvm-probe.ts";

/** Subdirectory of the cache dir holding one small JSON file per kernel and QEMU version. */
export const ACCEL_CACHE_SUBDIR = "accel";
/**
 * What the probe proves, as a version in the key: answers of an older probe (a SeaBIOS POST,
 * which says nothing about a 64-bit kernel) are not trusted.
 */
export const PROBE_VERSION = 2;

export interface AccelCacheKey {
  /** `uname -r`. */
  readonly kernel: string;
  /** The first line of `qemu-system-x86_64 --version`. */
  readonly qemu: string;
}

interface CachedAnswer extends AccelCacheKey, AccelChoice {
  readonly probedAt: string;
}

export interface AccelCacheOptions {
  /** The rebake cache dir; the answer goes under its `accel/` subdirectory. */
  readonly dir: string;
  /** Reads the QEMU version line (spawns the binary). */
  readonly qemuVersion: () => Promise<string>;
  /** @default os.release() */
  readonly kernel?: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * The cached answer for this kernel and QEMU, else `probe()`'s, which is then kept. Answers that
 * only say the probe could not run at all are not kept: the next build tries again.
 */
export async function cachedAccelChoice(probe: () => Promise<AccelChoice>, options: AccelCacheOptions): Promise<AccelChoice> {
  const key: AccelCacheKey = { kernel: options.kernel ?? release(), qemu: (await options.qemuVersion()).trim() };
  // Without a version the answer could outlive the binary it was probed with.
  if (!key.qemu) return probe();
  const file = accelCacheFile(options.dir, key);
  const cached = await readAnswer(file, key);
  if (cached) return { accel: cached.accel, reason: `${cached.reason} (probed ${cached.probedAt}, cached in ${file})` };
  const choice = await probe();
  if (choice.conclusive !== false) await writeAnswer(file, key, choice, options.now);
  return choice;
}

/**
 * Replaces this host's answer: a build that proved the cached one wrong (KVM stalled a real boot)
 * records what it learnt, so the next build does not try again.
 */
export async function recordAccelChoice(choice: AccelChoice, options: AccelCacheOptions): Promise<string | undefined> {
  const key: AccelCacheKey = { kernel: options.kernel ?? release(), qemu: (await options.qemuVersion()).trim() };
  if (!key.qemu) return undefined;
  const file = accelCacheFile(options.dir, key);
  await writeAnswer(file, key, choice, options.now);
  return file;
}

async function writeAnswer(file: string, key: AccelCacheKey, choice: AccelChoice, now: (() => Date) | undefined): Promise<void> {
  const answer: CachedAnswer = { ...key, accel: choice.accel, reason: choice.reason, probedAt: (now?.() ?? new Date()).toISOString() };
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(answer, null, 2)}\n`);
  await rename(temp, file);
}

export function accelCacheFile(dir: string, key: AccelCacheKey): string {
  const digest = createHash("sha256").update(`probe ${PROBE_VERSION}\n${key.kernel}\n${key.qemu}`).digest("hex").slice(0, 16);
  return path.join(dir, ACCEL_CACHE_SUBDIR, `${digest}.json`);
}

/** The stored answer when it is readable and for exactly this key; anything else means probe again. */
async function readAnswer(file: string, key: AccelCacheKey): Promise<CachedAnswer | undefined> {
  let parsed: Partial<CachedAnswer>;
  try {
    parsed = JSON.parse(await readFile(file, "utf8")) as Partial<CachedAnswer>;
  } catch {
    return undefined;
  }
  const valid =
    parsed.kernel === key.kernel &&
    parsed.qemu === key.qemu &&
    (parsed.accel === "kvm" || parsed.accel === "tcg") &&
    typeof parsed.reason === "string" &&
    typeof parsed.probedAt === "string";
  return valid ? (parsed as CachedAnswer) : undefined;
}
