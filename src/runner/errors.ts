/**
 * What can go wrong in a build, one class per kind so the CLI and tests branch with `instanceof`.
 * Every message names the step (or file), the bad value and what to do about it.
 */
import { ERROR_TAIL_LINES, tail } from "../util/exec.ts";

export class BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A guest command exited with a code that is neither a success nor a reboot code. */
export class GuestCommandFailedError extends BuildError {
  constructor(
    readonly stepId: string,
    readonly exitCode: number,
    readonly output: string,
    readonly logPath: string,
  ) {
    super(
      `step ${stepId} failed: the guest command exited with code ${exitCode}; ` +
        `last ${ERROR_TAIL_LINES} lines of its output (full log: ${logPath}):\n${tail(output)}`,
    );
  }
}

/** A step (or the wait for the guest inside it) took longer than its limit. */
export class StepTimeoutError extends BuildError {
  constructor(
    readonly stepId: string,
    readonly timeoutMs: number,
    what: string,
  ) {
    super(`step ${stepId} timed out after ${formatMs(timeoutMs)}: ${what}; raise the step's timeoutSeconds or check the guest console`);
  }
}

/** The whole build took longer than --timeout. */
export class BuildTimeoutError extends BuildError {
  constructor(readonly timeoutMs: number, readonly stepId: string | undefined) {
    super(`the build did not finish within ${formatMs(timeoutMs)}${stepId ? ` (it was in step ${stepId})` : ""}; raise --timeout`);
  }
}

/** SIGINT or SIGTERM. */
export class BuildInterruptedError extends BuildError {
  constructor(readonly reason: string, readonly stepId: string | undefined) {
    super(`build interrupted (${reason})${stepId ? ` during step ${stepId}` : ""}`);
  }
}

/** An input uploaded into the guest arrived with a different sha256. */
export class UploadChecksumError extends BuildError {
  constructor(stepId: string, input: string, expected: string, actual: string) {
    super(`step ${stepId}: ${input} arrived in the guest with sha256 ${actual}, expected ${expected}; the transfer was corrupted, rerun the build`);
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min${s % 60 ? ` ${s % 60} s` : ""}`;
}
