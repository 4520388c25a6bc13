/**
 * qcow2 layers through qemu-img: a new writable layer on top of a read-only base, an empty disk,
 * internal snapshots. Every call goes through the injected Exec.
 */
import type { Exec } from "../../util/exec.ts";
import { HypervisorError } from "../driver.ts";

const QEMU_IMG = "qemu-img";
/** qemu-img on a multi-GiB chain is fast; a minute means a stuck NFS mount or a lock. */
const QEMU_IMG_TIMEOUT_MS = 60_000;

export class DiskImageError extends HypervisorError {}

export interface ImageInfo {
  readonly format: string;
  readonly virtualSize: number;
  readonly backingFilename?: string;
}

export async function imageInfo(exec: Exec, file: string): Promise<ImageInfo> {
  const result = await exec(QEMU_IMG, ["info", "--output=json", "-U", file], { timeoutMs: QEMU_IMG_TIMEOUT_MS });
  let parsed: { format?: unknown; "virtual-size"?: unknown; "backing-filename"?: unknown };
  try {
    parsed = JSON.parse(result.stdout) as typeof parsed;
  } catch {
    throw new DiskImageError(`qemu-img info on ${file} did not print JSON: ${result.stdout.slice(0, 200)}`);
  }
  if (typeof parsed.format !== "string" || typeof parsed["virtual-size"] !== "number") {
    throw new DiskImageError(`qemu-img info on ${file} gave no format or virtual size`);
  }
  return {
    format: parsed.format,
    virtualSize: parsed["virtual-size"],
    ...(typeof parsed["backing-filename"] === "string" ? { backingFilename: parsed["backing-filename"] } : {}),
  };
}

/** A new qcow2 at `file` that reads through to `base` (whose format is detected) and writes only to itself. */
export async function createOverlay(exec: Exec, base: string, file: string): Promise<void> {
  const { format } = await imageInfo(exec, base);
  await exec(QEMU_IMG, ["create", "-q", "-f", "qcow2", "-b", base, "-F", format, file], { timeoutMs: QEMU_IMG_TIMEOUT_MS });
}

export async function createEmptyDisk(exec: Exec, file: string, sizeGiB: number): Promise<void> {
  await exec(QEMU_IMG, ["create", "-q", "-f", "qcow2", file, `${sizeGiB}G`], { timeoutMs: QEMU_IMG_TIMEOUT_MS });
}

/** Copying a whole disk out of a snapshot: bounded, so a stuck qemu-img fails instead of hanging. */
const SNAPSHOT_EXPORT_TIMEOUT_MS = 60 * 60_000;

/** The disk as it is in internal snapshot `name` of `file`, as a new qcow2 `target` (read-only use of `file`). */
export async function exportInternalSnapshot(exec: Exec, file: string, name: string, target: string, signal?: AbortSignal): Promise<void> {
  await exec(QEMU_IMG, ["convert", "-U", "-l", `snapshot.name=${name}`, "-O", "qcow2", file, target], { timeoutMs: SNAPSHOT_EXPORT_TIMEOUT_MS, ...(signal ? { signal } : {}) });
}

export async function createInternalSnapshot(exec: Exec, file: string, name: string): Promise<void> {
  await exec(QEMU_IMG, ["snapshot", "-c", name, file], { timeoutMs: QEMU_IMG_TIMEOUT_MS });
}
