/**
 * The GuestChannel over the QEMU guest agent: guest-exec with captured output, guest-file-* for
 * uploads (hashed on both ends), guest-shutdown for power off and reboot, and the filesystem
 * freeze the QEMU driver needs for a consistent checkpoint of a running VM.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import {
  GuestDisconnectedError,
  GuestError,
  GuestTimeoutError,
  type GuestChannel,
  type GuestExecOptions,
  type GuestExecResult,
} from "../channel.ts";
import { QgaCommandError, QgaConnection, abortError } from "./qga-connection.ts";
import { flushCommand, killCommand, nativeShell, programFor, sha256Command, type GuestOs } from "./guest-command.ts";

/** One request; the agent answers in milliseconds unless the guest is down or thrashing under TCG. */
export const QGA_REQUEST_TIMEOUT_MS = 10_000;
/**
 * How often guest-exec-status is asked; the agent returns output only once the command exits.
 * Most of a build's commands (mkdir, sha256sum, seal steps, small installers) end within tens or
 * hundreds of milliseconds even under TCG, so polling starts fast and backs off. Within the first
 * seconds a poll is never more than `shortMax` apart: with a 1 s cap, a command of 350 ms was seen
 * at 630 ms, and a rebuild of the demo runs about ten such commands on its critical path. Long
 * installs then back off to `max`.
 */
export const EXEC_POLL_MS = { first: 10, shortMax: 100, shortPhase: 5_000, max: 1_000 } as const;

/** The pause before the next guest-exec-status, after `pause` ms last time and `elapsed` ms in all. */
export function nextExecPoll(pause: number, elapsed: number): number {
  return Math.min(pause * 2, elapsed < EXEC_POLL_MS.shortPhase ? EXEC_POLL_MS.shortMax : EXEC_POLL_MS.max);
}
/** waitReady backoff between attempts. */
export const READY_BACKOFF_MS = { first: 250, max: 2_000 } as const;
/** Raw bytes per guest-file-write: 64 KiB once base64-encoded, well under the agent's limits. */
export const UPLOAD_CHUNK_BYTES = 48 * 1024;
const NS_PER_MS = 1_000_000;
/** Freezing runs VSS on Windows, which can take a while. */
const FREEZE_TIMEOUT_MS = 60_000;
/** Hashing a multi-GiB installer under TCG takes minutes. */
const HASH_TIMEOUT_MS = 15 * 60_000;
/** guest-shutdown only answers when it fails; no answer within this time means it was accepted. */
const SHUTDOWN_ERROR_WINDOW_MS = 2_000;
/** While waiting for a reboot to take the agent down, each probe waits this long. */
const REBOOT_DOWN_PROBE_MS = 2_000;

/** A guest channel that can also quiesce the guest's filesystems around a disk snapshot. */
export interface QuiescingGuestChannel extends GuestChannel {
  /** "frozen" must be followed by thawFilesystems; "synced" means caches were flushed instead. */
  freezeFilesystems(signal?: AbortSignal): Promise<"frozen" | "synced">;
  thawFilesystems(): Promise<void>;
  /** Sets the guest's clock, e.g. after a resume from a saved state left it at the time of the save. */
  setClock?(now: Date): Promise<void>;
}

/**
 * Tells when the guest has the agent's port open (QEMU's VSERPORT_CHANGE). Until then requests
 * only queue in the host socket: waiting for the port is both faster and a clearer failure.
 */
export interface AgentPortWatch {
  /** True once the port is open (now or within the time), false at timeout or abort. */
  waitOpen(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** True once the guest closed the port (its agent exited: shutdown, reboot), false at timeout or abort. */
  waitClosed(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
}

export class GuestCommandTimeoutError extends GuestTimeoutError {}
/** The guest never opened the agent's port: the agent is not running there. */
export class AgentPortClosedError extends GuestTimeoutError {}
export class UploadChecksumError extends GuestError {}

export interface QgaChannelOptions {
  /** The host end of the org.qemu.guest_agent.0 virtio-serial port. */
  readonly socketPath: string;
  /** Skips guest-get-osinfo; it decides how uploads are hashed and how commands are killed. */
  readonly guestOs?: GuestOs;
  readonly requestTimeoutMs?: number;
  /** Replaces the socket connector (tests). */
  readonly connection?: QgaConnection;
  /** When the hypervisor reports the port's state, waitReady waits for the guest to open it. */
  readonly agentPort?: AgentPortWatch;
}

interface ExecStatus {
  readonly exited: boolean;
  readonly exitcode?: number;
  readonly signal?: number;
  readonly "out-data"?: string;
  readonly "err-data"?: string;
  readonly "out-truncated"?: boolean;
  readonly "err-truncated"?: boolean;
}

/** Shells report death by signal N as exit code 128 + N; so do we. */
const SIGNAL_EXIT_BASE = 128;

export class QgaChannel implements QuiescingGuestChannel {
  private readonly connection: QgaConnection;
  private readonly requestTimeoutMs: number;
  private readonly agentPort: AgentPortWatch | undefined;
  private os: GuestOs | undefined;

  constructor(options: QgaChannelOptions) {
    this.connection = options.connection ?? new QgaConnection(options.socketPath);
    this.requestTimeoutMs = options.requestTimeoutMs ?? QGA_REQUEST_TIMEOUT_MS;
    this.agentPort = options.agentPort;
    this.os = options.guestOs;
  }

  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.agentPort && !(await this.agentPort.waitOpen(timeoutMs, signal))) {
      if (signal?.aborted) throw abortError(signal);
      throw new AgentPortClosedError(
        `the guest did not open the guest agent's virtio-serial port within ${timeoutMs} ms (${this.connection.socketPath}): qemu-ga is not running in the guest; check that it is installed and started at boot on /dev/virtio-ports/org.qemu.guest_agent.0`,
      );
    }
    let backoff: number = READY_BACKOFF_MS.first;
    let lastError = "no attempt";
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        await this.connection.sync(Math.min(remaining, this.requestTimeoutMs), signal);
        return;
      } catch (error) {
        if (!(error instanceof GuestTimeoutError || error instanceof GuestDisconnectedError)) throw error;
        lastError = error.message;
      }
      const pause = Math.min(backoff, deadline - Date.now());
      if (pause > 0) await sleep(pause, undefined, signal ? { signal } : {}).catch(() => undefined);
      backoff = Math.min(backoff * 2, READY_BACKOFF_MS.max);
    }
    throw new GuestTimeoutError(
      `the guest agent on ${this.connection.socketPath} did not answer guest-sync-delimited within ${timeoutMs} ms (last: ${lastError})`,
    );
  }

  async exec(script: string, options: GuestExecOptions): Promise<GuestExecResult> {
    const started = Date.now();
    const deadline = started + options.timeoutMs;
    const program = programFor(options.shell, script);
    const { pid } = await this.request<{ pid: number }>("guest-exec", { path: program.path, arg: program.arg, "capture-output": true }, options.signal);
    let pause: number = EXEC_POLL_MS.first;
    for (;;) {
      if (options.signal?.aborted) {
        await this.killQuietly(pid);
        throw abortError(options.signal);
      }
      if (Date.now() > deadline) {
        await this.killQuietly(pid);
        throw new GuestCommandTimeoutError(`the guest command did not finish within ${options.timeoutMs} ms: ${firstLine(script)}`);
      }
      let status: ExecStatus | undefined;
      try {
        status = await this.request<ExecStatus>("guest-exec-status", { pid }, options.signal);
      } catch (error) {
        // A busy guest may miss one poll; the command's own deadline decides.
        if (!(error instanceof GuestTimeoutError)) throw error;
      }
      if (status?.exited) return this.finish(status, options);
      await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
      pause = nextExecPoll(pause, Date.now() - started);
    }
  }

  async upload(localPath: string, guestPath: string, signal?: AbortSignal): Promise<{ readonly sha256: string }> {
    const hash = createHash("sha256");
    const file = await open(localPath, "r");
    try {
      const handle = await this.request<number>("guest-file-open", { path: guestPath, mode: "wb" }, signal);
      try {
        const buffer = Buffer.alloc(UPLOAD_CHUNK_BYTES);
        for (;;) {
          const { bytesRead } = await file.read(buffer, 0, UPLOAD_CHUNK_BYTES, null);
          if (bytesRead === 0) break;
          const chunk = buffer.subarray(0, bytesRead);
          hash.update(chunk);
          const written = await this.request<{ count: number }>("guest-file-write", { handle, "buf-b64": chunk.toString("base64") }, signal);
          if (written.count !== bytesRead) {
            throw new GuestError(`the guest wrote ${written.count} of ${bytesRead} bytes to ${guestPath}: is the guest disk full?`);
          }
        }
      } finally {
        await this.request("guest-file-close", { handle }).catch(() => undefined);
      }
    } finally {
      await file.close();
    }
    const expected = hash.digest("hex");
    const sha256 = await this.guestSha256(guestPath, signal);
    if (sha256 !== expected) {
      throw new UploadChecksumError(`upload of ${localPath} to ${guestPath}: expected sha256 ${expected}, the guest computed ${sha256}`);
    }
    return { sha256 };
  }

  async shutdown(): Promise<void> {
    await this.connection.sync(this.requestTimeoutMs);
    await this.sendShutdown("powerdown");
  }

  async reboot(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.connection.sync(this.requestTimeoutMs, signal);
    const down = await this.sendShutdown("reboot");
    // The agent keeps answering for a moment after accepting the reboot: wait until it is gone, or
    // the "ready" below would be the old boot. The port closing says so at once; else probe.
    if (this.agentPort && !down) {
      if (!(await this.agentPort.waitClosed(Math.max(0, deadline - Date.now()), signal))) {
        if (signal?.aborted) throw abortError(signal);
        throw new GuestTimeoutError(`the guest did not go down within ${timeoutMs} ms after a reboot request`);
      }
    }
    while (!this.agentPort) {
      if (signal?.aborted) throw abortError(signal);
      if (Date.now() > deadline) throw new GuestTimeoutError(`the guest did not go down within ${timeoutMs} ms after a reboot request`);
      try {
        await this.connection.request("guest-ping", undefined, Math.min(REBOOT_DOWN_PROBE_MS, deadline - Date.now()), signal);
      } catch (error) {
        if (error instanceof GuestTimeoutError || error instanceof GuestDisconnectedError) break;
        throw error;
      }
      await sleep(READY_BACKOFF_MS.first);
    }
    await this.waitReady(Math.max(0, deadline - Date.now()), signal);
  }

  /**
   * Freezes guest filesystems for a consistent disk checkpoint. Guests whose agent cannot freeze
   * (command disabled or unsupported) get their caches flushed instead: "synced".
   */
  async freezeFilesystems(signal?: AbortSignal): Promise<"frozen" | "synced"> {
    try {
      await this.connection.request("guest-fsfreeze-freeze", undefined, FREEZE_TIMEOUT_MS, signal);
      return "frozen";
    } catch (error) {
      if (!(error instanceof QgaCommandError)) throw error;
    }
    const os = await this.guestOs();
    const result = await this.exec(flushCommand(os), { shell: nativeShell(os), timeoutMs: FREEZE_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    if (result.exitCode !== 0) throw new GuestError(`flushing guest filesystems failed with exit code ${result.exitCode}: ${result.stderr.trim()}`);
    return "synced";
  }

  async thawFilesystems(): Promise<void> {
    await this.connection.request("guest-fsfreeze-thaw", undefined, FREEZE_TIMEOUT_MS);
  }

  async setClock(now: Date): Promise<void> {
    await this.connection.request("guest-set-time", { time: now.getTime() * NS_PER_MS }, QGA_REQUEST_TIMEOUT_MS);
  }

  async close(): Promise<void> {
    this.connection.close();
  }

  /** Linux or Windows, from guest-get-osinfo; agents too old for it are taken as Linux. */
  async guestOs(): Promise<GuestOs> {
    if (this.os) return this.os;
    try {
      const info = await this.request<{ id?: string }>("guest-get-osinfo");
      this.os = info.id === "mswindows" ? "windows" : "linux";
    } catch (error) {
      if (!(error instanceof QgaCommandError)) throw error;
      this.os = "linux";
    }
    return this.os;
  }

  private request<T>(command: string, args?: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    return this.connection.request<T>(command, args, this.requestTimeoutMs, signal);
  }

  /**
   * Asks for a power-down or reboot. Returns true when the guest closed the agent's port (so it is
   * known to be going down), false when only the error window passed in silence.
   */
  private async sendShutdown(mode: "powerdown" | "reboot"): Promise<boolean> {
    const window = new AbortController();
    const request = this.connection.request("guest-shutdown", { mode }, SHUTDOWN_ERROR_WINDOW_MS, window.signal);
    // The agent exiting closes its port: acceptance, without sitting out the whole error window.
    const closed = this.agentPort?.waitClosed(SHUTDOWN_ERROR_WINDOW_MS, window.signal).then((down) => (down ? "closed" : "silent"));
    try {
      const outcome = await Promise.race([request.then(() => "answered" as const), ...(closed ? [closed] : [])]);
      return outcome === "closed";
    } catch (error) {
      // Silence or a dropped line is what acceptance looks like.
      if (error instanceof GuestTimeoutError || error instanceof GuestDisconnectedError) return false;
      throw error;
    } finally {
      window.abort();
      request.catch(() => undefined);
    }
  }

  private finish(status: ExecStatus, options: GuestExecOptions): GuestExecResult {
    const stdout = decode(status["out-data"]) + (status["out-truncated"] ? "\n[output truncated by the guest agent]\n" : "");
    const stderr = decode(status["err-data"]) + (status["err-truncated"] ? "\n[output truncated by the guest agent]\n" : "");
    if (stdout) options.onOutput?.(stdout, "stdout");
    if (stderr) options.onOutput?.(stderr, "stderr");
    const exitCode = status.exitcode ?? (status.signal !== undefined ? SIGNAL_EXIT_BASE + status.signal : -1);
    return { exitCode, stdout, stderr };
  }

  private async guestSha256(guestPath: string, signal?: AbortSignal): Promise<string> {
    const os = await this.guestOs();
    const result = await this.exec(sha256Command(os, guestPath), {
      shell: nativeShell(os),
      timeoutMs: HASH_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
    const match = /^[0-9a-fA-F]{64}/.exec(result.stdout.trim());
    if (result.exitCode !== 0 || !match) {
      throw new GuestError(`hashing ${guestPath} inside the guest failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).trim()}`);
    }
    return match[0].toLowerCase();
  }

  private async killQuietly(pid: number): Promise<void> {
    try {
      const os = await this.guestOs();
      const program = programFor(nativeShell(os), killCommand(os, pid));
      await this.request("guest-exec", { path: program.path, arg: program.arg });
    } catch {
      // Best effort: the caller is already reporting the timeout or abort.
    }
  }
}

function decode(data: string | undefined): string {
  return data ? Buffer.from(data, "base64").toString("utf8") : "";
}

function firstLine(script: string): string {
  const line = script.trim().split("\n")[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 120)}...` : line;
}
