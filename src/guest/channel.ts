/**
 * A guest channel runs commands and moves files inside the golden VM: the QEMU guest agent,
 * VMware Tools guest operations, WinRM or SSH. The runner only sees this interface.
 */
import type { Shell } from "../recipe/model.ts";

export interface GuestExecOptions {
  readonly shell: Shell;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Each chunk of output as it arrives, for the step log. */
  readonly onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
}

export interface GuestExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface GuestChannel {
  /** Resolves when the agent answers; rejects with GuestTimeoutError after `timeoutMs`. */
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Runs a script through the given shell and waits for its exit code. */
  exec(script: string, options: GuestExecOptions): Promise<GuestExecResult>;
  /** Copies a local file into the guest and returns the sha256 computed inside the guest. */
  upload(localPath: string, guestPath: string, signal?: AbortSignal): Promise<{ readonly sha256: string }>;
  /** Asks the guest OS to power off. */
  shutdown(): Promise<void>;
  /** Asks the guest OS to reboot; resolves once the agent answers again. */
  reboot(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export class GuestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** The agent did not answer in time. */
export class GuestTimeoutError extends GuestError {}
/** The connection dropped (expected during a reboot). */
export class GuestDisconnectedError extends GuestError {}
