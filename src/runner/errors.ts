/**
 * What can go wrong in a build, one class per kind so the CLI and tests branch with `instanceof`.
 * Every message names the step (or file), the bad value and what to do about it.
 */
import type { Verification } from "../manifest/model.ts";
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

/** Lines of the guest console a stall or a dead VM is reported with. */
export const CONSOLE_TAIL_LINES = 20;

function consoleTail(lines: readonly string[]): string {
  return lines.length === 0 ? "(the guest wrote nothing to its console)" : lines.map((l) => `  | ${l}`).join("\n");
}

/** Nothing moved in the guest (console, disk writes, CPU) for the whole stall window. */
export class GuestStallError extends BuildError {
  constructor(
    readonly stepId: string,
    readonly phase: string,
    readonly accelerator: string,
    readonly stalledMs: number,
    /** Bytes the guest wrote to its disks during this run of the VM: 0 means it never got going. */
    readonly diskWrittenBytes: number,
    readonly console: readonly string[],
  ) {
    super(
      `step ${stepId} stalled during ${phase}: under ${accelerator}, the VM printed nothing, wrote nothing to its disk and used no CPU for ${formatMs(stalledMs)}; ` +
        `last ${CONSOLE_TAIL_LINES} console lines:\n${consoleTail(console)}\n` +
        (accelerator === "kvm"
          ? `KVM on this host may not run this guest: set REBAKE_ACCEL=tcg, or raise the stall window (--stall-timeout) if the guest is only slow`
          : `check the console above; raise the stall window (--stall-timeout, or build.stallTimeoutMinutes in the recipe) if the guest is only slow`),
    );
  }
}

/** The VM's process stopped while a step needed it: killed, crashed, or stopped from the host. */
export class VmDiedError extends BuildError {
  constructor(
    readonly stepId: string,
    readonly description: string,
    readonly console: readonly string[],
  ) {
    super(
      `step ${stepId} failed: the VM stopped while the step needed it: ${description}; last ${CONSOLE_TAIL_LINES} console lines:\n${consoleTail(console)}\n` +
        `an out-of-memory kill or a crash of the hypervisor process looks like this: check the host's kernel log (dmesg) and free memory, then rebuild`,
    );
  }
}

/** The installer powered the VM off without reporting success on its console. */
export class InstallNotProvenError extends BuildError {
  constructor(
    readonly stepId: string,
    readonly expected: string,
    readonly failure: string | undefined,
    readonly console: readonly string[],
  ) {
    super(
      failure
        ? `step ${stepId} failed: the installer reported a failure: ${failure}; last ${CONSOLE_TAIL_LINES} console lines:\n${consoleTail(console)}`
        : `step ${stepId} failed: the installer powered the VM off without reporting success (its console never printed "${expected}"); nothing was kept; last ${CONSOLE_TAIL_LINES} console lines:\n${consoleTail(console)}`,
    );
  }
}

/** A committed layer whose guest did not come back: it was evicted, and the build starts again below it. */
export class BrokenLayerError extends BuildError {
  constructor(
    readonly stepId: string,
    readonly failure: Error,
  ) {
    super(`the cached layer of step ${stepId} did not boot to a guest agent (${failure.message.split("\n")[0]}); it was evicted from the layer cache`);
  }
}

/**
 * The artifact was built and captured but a check failed (or the vDisk changed) when it was booted:
 * the manifest still records the build and the failed verification, so nothing is lost.
 */
export class VerificationFailedError extends BuildError {
  constructor(readonly verification: Verification) {
    const failed = verification.checks.filter((c) => !c.passed);
    super(`verification failed: ${failed.map((c) => `${c.name}${c.detail ? ` (${c.detail.split("\n").at(-1)})` : ""}`).join(", ")}`);
  }
}
