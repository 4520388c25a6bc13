/**
 * A read-only qemu-nbd export of a whole disk chain on a private Unix socket, for the ranges
 * capture cannot read from a layer file directly. qemu-nbd forks once the socket is ready and
 * exits when the client disconnects; `close` also stops it by its pid should it outlive that.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Exec } from "../util/exec.ts";
import { NbdClient } from "./nbd-client.ts";

/** qemu-nbd forks only after it listens; this bounds a hang in its start-up. */
const START_TIMEOUT_MS = 30_000;

export interface NbdExport {
  readonly client: NbdClient;
  close(): Promise<void>;
}

async function stopIfRunning(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  // The pid must still be our qemu-nbd: once it exits on disconnect, the number may be reused.
  const command = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  if (!command.includes("qemu-nbd")) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    // it exited between the check and the signal
  }
}

export async function startNbdExport(exec: Exec, image: { readonly path: string; readonly format: string }, signal?: AbortSignal): Promise<NbdExport> {
  // Socket paths are limited to 107 bytes, so the directory lives in the system temp dir.
  const dir = await mkdtemp(path.join(tmpdir(), "rebake-nbd-"));
  const socket = path.join(dir, "nbd.sock");
  const pidFile = path.join(dir, "qemu-nbd.pid");
  let pid: number | undefined;
  try {
    await exec(
      "qemu-nbd",
      ["--read-only", "--fork", "--shared=1", `--socket=${socket}`, `--pid-file=${pidFile}`, "--format", image.format, image.path],
      { timeoutMs: START_TIMEOUT_MS, ...(signal ? { signal } : {}) },
    );
    pid = Number((await readFile(pidFile, "utf8")).trim());
    const client = await NbdClient.connect(socket);
    return {
      client,
      close: async () => {
        await client.close().catch(() => undefined);
        await stopIfRunning(pid);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    // An abort can land after qemu-nbd forked but before its pid was read.
    pid ??= Number((await readFile(pidFile, "utf8").catch(() => "")).trim()) || undefined;
    await stopIfRunning(pid);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
