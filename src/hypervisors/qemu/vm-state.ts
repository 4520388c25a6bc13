/**
 * A VM's memory and device state as a file, written and read with QEMU's migration to and from an
 * `exec:` pipe (QEMU 7.2 has no `file:` migration URI). Saving a stopped VM is a savevm into a file
 * of our own, beside the layer it belongs to, instead of an internal qcow2 snapshot that would
 * write into the frozen layer.
 *
 * The state is compressed with zstd at level 1: measured on the demo (512 MiB guest), a 108.7 MB
 * state becomes 44.4 MB in 0.47 s (level 3: 42.8 MB in 1.19 s), so the cache keeps 2.4x less per
 * layer for half a second per checkpoint. QEMU already skips zero pages; what is left is the
 * guest's page cache and heap, which compress well. Loading passes an uncompressed state (saved
 * before this) through unchanged (zstd -f).
 */
import { randomBytes } from "node:crypto";
import { rename, rm, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { HypervisorError } from "../driver.ts";
import type { QmpClient } from "./qmp-client.ts";
import type { TrackedProcess } from "./tracked-process.ts";
import { shQuote } from "../../util/sh-quote.ts";

/** A 512 MiB guest saves in about a second; a large Windows guest in well under this. */
export const VM_STATE_TIMEOUT_MS = 300_000;
/** QEMU 7.2 defaults to 32 MiB/s for migration; a stopped VM is not hurt by going as fast as the disk. */
const UNLIMITED_BANDWIDTH = 2 ** 40;
const POLL_MS = 50;
const QEMU_EXIT_GRACE_MS = 2_000;

export class VmStateFileError extends HypervisorError {}

/** QEMU runs `exec:` URIs through /bin/sh: the stream goes to zstd, which writes the file. */
export function saveCommand(file: string): string {
  return `exec:zstd -q -1 -c > ${shQuote(file)}`;
}

/** zstd -f passes a file that is not zstd (a state saved uncompressed) through unchanged. */
export function loadCommand(file: string): string {
  return `exec:zstd -q -d -c -f ${shQuote(file)}`;
}

interface MigrationInfo {
  readonly status?: string;
  readonly "error-desc"?: string;
}

/** Saves the (stopped) VM's state to `target` through a temp name; returns its size in bytes. */
export async function saveVmState(qmp: QmpClient, target: string, timeoutMs = VM_STATE_TIMEOUT_MS): Promise<number> {
  const partial = `${target}.${randomBytes(4).toString("hex")}.partial`;
  try {
    await qmp.execute("migrate-set-parameters", { "max-bandwidth": UNLIMITED_BANDWIDTH });
    await qmp.execute("migrate", { uri: saveCommand(partial) });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await qmp.execute<MigrationInfo>("query-migrate");
      if (info.status === "completed") break;
      if (info.status === "failed" || info.status === "cancelled") {
        throw new VmStateFileError(`saving the VM state to ${target} ${info.status}: ${info["error-desc"] ?? "no reason given"}`);
      }
      if (Date.now() > deadline) {
        await qmp.execute("migrate_cancel").catch(() => undefined);
        throw new VmStateFileError(`saving the VM state to ${target} took longer than ${timeoutMs} ms (status ${info.status ?? "unknown"})`);
      }
      await sleep(POLL_MS);
    }
    const { size } = await stat(partial);
    await rename(partial, target);
    return size;
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/**
 * Loads `file` into a QEMU started with `-incoming defer -S`; resolves when the VM is paused at the
 * saved state. QEMU 7.2 exits when the state does not load (other devices, memory or machine).
 */
export async function loadVmState(qmp: QmpClient, qemu: TrackedProcess, file: string, timeoutMs = VM_STATE_TIMEOUT_MS): Promise<void> {
  await qmp.execute("migrate-incoming", { uri: loadCommand(file) });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A QEMU that rejects the state exits, which also closes QMP under a pending query.
    const status = await Promise.race([
      qmp.execute<{ readonly status: string }>("query-status").then((s) => s.status),
      qemu.exited.then(() => "exited"),
    ]).catch(async (error: Error) => ((await qemu.waitExit(QEMU_EXIT_GRACE_MS)) ? "exited" : Promise.reject(error)));
    if (status === "paused") return;
    if (status === "exited" || !qemu.running) throw new VmStateFileError(`qemu exited while loading ${file}: ${qemu.stderr.trim().replace(/\s*\n\s*/g, "; ") || "no output"}`);
    if (status !== "inmigrate") throw new VmStateFileError(`loading ${file} left the VM ${status}, expected paused`);
    if (Date.now() > deadline) throw new VmStateFileError(`loading ${file} took longer than ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

