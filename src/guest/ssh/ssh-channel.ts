/**
 * The GuestChannel over SSH with the OpenSSH client (ssh, scp) through the exec layer: one ssh
 * process per call, key authentication only, host key pinned per build on first contact. Linux
 * guests run `sh -c`; Windows OpenSSH servers run PowerShell or cmd scripts (os: "windows").
 */
import { access, constants } from "node:fs/promises";
import { sha256File } from "../../util/hash-file.ts";
import { CommandTimeoutError, createExec, type Exec, type ExecResult } from "../../util/exec.ts";
import { GuestDisconnectedError, GuestError, GuestTimeoutError, type GuestChannel, type GuestExecOptions, type GuestExecResult } from "../channel.ts";
import { pollGuest, rebootUntilNewBoot } from "../poll-guest.ts";
import { nativeShell, type GuestOs } from "../qga/guest-command.ts";
import { checkUploadHash } from "../upload-hash.ts";
import { bootIdScript, killCommand, PidMarkerFilter, powerScript, remoteCommand, sha256Script, withoutPidMarker, type RemoteCommand } from "./remote-command.ts";
import { describeTarget, scpArguments, sshArguments, type SshTarget } from "./ssh-arguments.ts";
import {
  connectionFailure,
  isConnectionLost,
  SSH_FAILURE_EXIT,
  SshAuthError,
  SshCommandTimeoutError,
  SshSettingsError,
  SshUploadError,
} from "./ssh-errors.ts";

export const DEFAULT_SSH_PORT = 22;
/** waitReady and reboot poll with this backoff. */
export const READY_BACKOFF_MS = { first: 500, max: 5_000 } as const;
/** One readiness probe (connect, handshake, `echo`): CONNECT_TIMEOUT_S plus a margin. */
export const PROBE_TIMEOUT_MS = 20_000;
/** Killing a timed-out step over a second connection. */
const KILL_TIMEOUT_MS = 15_000;
/** Asking for a reboot or power-off: the connection usually drops before an answer. */
const POWER_REQUEST_TIMEOUT_MS = 30_000;
/** Hashing a multi-GiB installer inside a busy guest takes minutes. */
const HASH_TIMEOUT_MS = 15 * 60_000;
const READY_WORD = "rebake-ready";

export interface SshChannelOptions {
  /** The guest's address, or how to look it up (a hypervisor's view of the VM's IP, undefined until it has one). */
  readonly host: string | (() => Promise<string | undefined>);
  /** @default DEFAULT_SSH_PORT */
  readonly port?: number;
  readonly user: string;
  /** Private key file; password authentication is not supported. */
  readonly keyPath: string;
  /** known_hosts for this build only (in its runtime dir): the first host key seen is pinned. */
  readonly knownHostsPath: string;
  /** @default "linux" */
  readonly os?: GuestOs;
  /** Runs ssh and scp. @default createExec() */
  readonly exec?: Exec;
}

export class SshChannel implements GuestChannel {
  private readonly spawnCommand: Exec;
  private readonly os: GuestOs;
  private readonly port: number;
  private knownHost: string | undefined;

  constructor(private readonly options: SshChannelOptions) {
    this.spawnCommand = options.exec ?? createExec();
    this.os = options.os ?? "linux";
    this.port = options.port ?? DEFAULT_SSH_PORT;
    if (typeof options.host === "string") this.knownHost = options.host;
  }

  /** Resolves once the guest's sshd accepts the key and runs a command; connection and key refusals are retried until the deadline. */
  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await this.checkKey();
    const deadline = Date.now() + timeoutMs;
    const last = await this.poll(deadline, signal, async (target) => {
      const probe = await this.run(target, { command: `echo ${READY_WORD}` }, Math.min(PROBE_TIMEOUT_MS, deadline - Date.now()), signal);
      return probe.stdout.includes(READY_WORD) ? true : `the probe printed ${JSON.stringify(probe.stdout.trim())} (exit ${probe.exitCode})`;
    });
    if (last !== true) {
      throw new GuestTimeoutError(`waiting for the SSH server of ${this.where()} to accept ${this.options.keyPath} and run a command: not ready within ${timeoutMs} ms (last: ${last})`);
    }
  }

  async exec(script: string, options: GuestExecOptions): Promise<GuestExecResult> {
    const remote = remoteCommand(this.os, options.shell, script);
    const target = await this.target();
    const marker = new PidMarkerFilter();
    const forward = (chunk: string, stream: "stdout" | "stderr") => {
      const passed = stream === "stderr" ? marker.filter(chunk) : chunk;
      if (passed) options.onOutput?.(passed, stream);
    };
    let result: ExecResult;
    try {
      result = await this.spawnCommand("ssh", sshArguments(target, remote.command, remote.input !== undefined), {
        nothrow: true,
        timeoutMs: options.timeoutMs,
        onOutput: forward,
        ...(remote.input !== undefined ? { input: remote.input } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (!(error instanceof CommandTimeoutError)) throw error;
      await this.kill(target, marker.pid);
      throw new SshCommandTimeoutError(`the command on ${describeTarget(target)} did not finish within ${options.timeoutMs} ms and was killed: ${firstLine(script)}`);
    }
    if (options.signal?.aborted) {
      await this.kill(target, marker.pid);
      options.signal.throwIfAborted();
    }
    const rest = marker.flush();
    if (rest) options.onOutput?.(rest, "stderr");
    const stderr = withoutPidMarker(result.stderr);
    if (result.exitCode === SSH_FAILURE_EXIT || result.exitCode < 0) {
      if (marker.pid === undefined) throw connectionFailure(describeTarget(target), target.keyPath, target.knownHostsPath, result.stderr);
      if (isConnectionLost(stderr) || result.exitCode < 0) {
        throw new GuestDisconnectedError(`the connection to ${describeTarget(target)} dropped while running: ${firstLine(script)}`);
      }
    }
    return { exitCode: result.exitCode, stdout: result.stdout, stderr };
  }

  async upload(localPath: string, guestPath: string, signal?: AbortSignal): Promise<{ readonly sha256: string }> {
    const expected = await sha256File(localPath, signal);
    const target = await this.target();
    const copied = await this.spawnCommand("scp", scpArguments(target, localPath, guestPath), { nothrow: true, ...(signal ? { signal } : {}) });
    signal?.throwIfAborted();
    if (copied.exitCode !== 0) {
      if (/Permission denied \(|Host key verification failed|Connection refused|timed out/.test(copied.stderr)) {
        throw connectionFailure(describeTarget(target), target.keyPath, target.knownHostsPath, copied.stderr);
      }
      throw new SshUploadError(`scp of ${localPath} to ${guestPath} on ${describeTarget(target)} failed with exit code ${copied.exitCode}: ${copied.stderr.trim()}`);
    }
    const hashed = await this.exec(sha256Script(this.os, guestPath), { shell: nativeShell(this.os), timeoutMs: HASH_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    return { sha256: checkUploadHash(hashed, expected, { localPath, guestPath, where: describeTarget(target) }, (message) => new SshUploadError(message)) };
  }

  async shutdown(): Promise<void> {
    await this.requestPower("poweroff");
  }

  /** Reboots and waits until the guest answers with a different boot id: an answer from the old boot does not count. */
  async reboot(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await rebootUntilNewBoot(
      {
        identity: "boot id",
        probeTimeoutMs: PROBE_TIMEOUT_MS,
        readBootIdentity: (timeout, s) => this.bootId(timeout, s),
        requestReboot: (s) => this.requestPower("reboot", s),
        forgetAddress: () => (this.knownHost = typeof this.options.host === "string" ? this.options.host : undefined),
        poll: (deadline, s, attempt) => this.poll(deadline, s, () => attempt(deadline - Date.now())),
        where: () => this.where(),
      },
      timeoutMs,
      signal,
    );
  }

  async close(): Promise<void> {
    // One ssh process per call: there is no connection to close.
  }

  /** pollGuest with SSH's backoff and retryable failures; each attempt gets the current target. */
  private poll(deadline: number, signal: AbortSignal | undefined, attempt: (target: SshTarget) => Promise<true | string>): Promise<true | string> {
    return pollGuest({ deadline, backoffMs: READY_BACKOFF_MS, isRetryable, ...(signal ? { signal } : {}) }, async () => attempt(await this.target()));
  }

  private async bootId(timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
    const result = await this.exec(bootIdScript(this.os), { shell: nativeShell(this.os), timeoutMs, ...(signal ? { signal } : {}) });
    const id = result.stdout.trim();
    if (result.exitCode !== 0 || !id) throw new GuestError(`reading the boot id of ${this.where()} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    return id;
  }

  /** The request is accepted when it exits 0 or the connection drops on the way down. */
  private async requestPower(action: "reboot" | "poweroff", signal?: AbortSignal): Promise<void> {
    let result: GuestExecResult;
    try {
      result = await this.exec(powerScript(this.os, action), { shell: nativeShell(this.os), timeoutMs: POWER_REQUEST_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (error instanceof GuestDisconnectedError || error instanceof GuestTimeoutError) return;
      throw error;
    }
    if (result.exitCode !== 0 && result.exitCode !== SSH_FAILURE_EXIT) {
      throw new GuestError(`asking ${this.where()} to ${action} failed with exit code ${result.exitCode}: ${result.stderr.trim()} (a non-root account needs passwordless sudo for ${action})`);
    }
  }

  private async run(target: SshTarget, remote: RemoteCommand, timeoutMs: number, signal: AbortSignal | undefined): Promise<ExecResult> {
    let result: ExecResult;
    try {
      result = await this.spawnCommand("ssh", sshArguments(target, remote.command, remote.input !== undefined), {
        nothrow: true,
        timeoutMs,
        ...(remote.input !== undefined ? { input: remote.input } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (error instanceof CommandTimeoutError) throw new GuestTimeoutError(`ssh to ${describeTarget(target)} did not answer within ${timeoutMs} ms`);
      throw error;
    }
    signal?.throwIfAborted();
    if (result.exitCode === SSH_FAILURE_EXIT) throw connectionFailure(describeTarget(target), target.keyPath, target.knownHostsPath, result.stderr);
    return result;
  }

  private async kill(target: SshTarget, pid: number | undefined): Promise<void> {
    if (pid === undefined) return;
    try {
      await this.run(target, killCommand(this.os, pid), KILL_TIMEOUT_MS, undefined);
    } catch {
      // Best effort: the caller is already reporting the timeout or abort.
    }
  }

  private async target(): Promise<SshTarget> {
    const host = this.knownHost ?? (typeof this.options.host === "function" ? await this.options.host() : undefined);
    if (!host) throw new GuestDisconnectedError(`the guest has no IP address yet, so there is nothing to connect to as ${this.options.user} over SSH`);
    this.knownHost = host;
    return { host, port: this.port, user: this.options.user, keyPath: this.options.keyPath, knownHostsPath: this.options.knownHostsPath };
  }

  private where(): string {
    return describeTarget({ host: this.knownHost ?? "(address not known yet)", port: this.port, user: this.options.user });
  }

  private async checkKey(): Promise<void> {
    try {
      await access(this.options.keyPath, constants.R_OK);
    } catch {
      throw new SshSettingsError(`the SSH private key ${this.options.keyPath} cannot be read: set keyPath to a readable key file (password authentication is not supported)`);
    }
  }
}

/** Failures that go away by themselves while a guest boots: no address, no listener, key not installed yet. */
function isRetryable(error: unknown): boolean {
  return error instanceof GuestDisconnectedError || error instanceof GuestTimeoutError || error instanceof SshAuthError;
}

function firstLine(script: string): string {
  const line = script.trim().split("\n")[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 120)}...` : line;
}
