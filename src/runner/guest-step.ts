/**
 * One planned step inside the guest: upload its inputs (each sha256-checked inside the guest),
 * run its commands in order (success codes pass, reboot codes reboot, rerun codes reboot and run
 * the command again), then reboot when the step asks for it. A channel that drops while the guest
 * reboots is expected: the runner waits for the agent to come back.
 */
import { basename } from "node:path";
import { GuestDisconnectedError, type GuestChannel } from "../guest/channel.ts";
import type { OsFamily, SecretRef } from "../recipe/model.ts";
import type { GuestCommand, PlanStep } from "../recipe/plan-model.ts";
import type { FetchedInput } from "../cache/download-cache.ts";
import { GuestCommandFailedError, UploadChecksumError } from "./errors.ts";
import type { Clock } from "./events.ts";
import { defaultShell, defaultUploadDir, guestDirname, guestJoin, mkdirScript, withEnvironment } from "./guest-script.ts";
import type { StepLog } from "./step-log.ts";
import { withStepTimeout } from "./step-timeout.ts";

/** Time limit for runner-made helper commands (mkdir) inside the guest. */
const HELPER_TIMEOUT_MS = 60_000;

/** Where the time of a build goes, accumulated across steps. */
export interface TimeSpent {
  inGuestMs: number;
  bootMs: number;
}

export interface GuestStepOptions {
  readonly step: PlanStep;
  readonly family: OsFamily;
  readonly channel: GuestChannel;
  /** The step's inputs as checked local files, in the plan's order. */
  readonly files: readonly FetchedInput[];
  readonly log: StepLog;
  readonly signal: AbortSignal;
  /** How long a boot or reboot may take until the agent answers. */
  readonly bootTimeoutMs: number;
  readonly resolveSecret: (ref: SecretRef) => string;
  readonly clock: Clock;
  readonly spent: TimeSpent;
  /**
   * Runs a wait for the guest (a reboot, the agent coming back) under the VM's watchdog, so a
   * stall or a dead VM fails it at once. @default the wait runs as it is
   */
  readonly watchBoot?: <T>(waitingFor: string, work: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

export interface GuestStepResult {
  /** Exit code of the last command, absent for a step without commands. */
  readonly exitCode?: number;
}

export async function runGuestStep(options: GuestStepOptions): Promise<GuestStepResult> {
  const { step, log, clock } = options;
  await uploadInputs(options);
  let exitCode: number | undefined;
  let rebootRequired = false;
  for (const [index, command] of step.commands.entries()) {
    const outcome = await runCommand(options, command, index);
    exitCode = outcome.exitCode;
    rebootRequired ||= outcome.rebootRequired;
  }
  if (step.reboot === "always" || (step.reboot === "if-required" && rebootRequired)) {
    log.note(clock(), `rebooting (${step.reboot === "always" ? "the step always reboots" : "a command asked for a reboot"})`);
    await reboot(options, "the reboot after the step");
  }
  return exitCode === undefined ? {} : { exitCode };
}

async function uploadInputs(options: GuestStepOptions): Promise<void> {
  const { step, family, channel, log, clock } = options;
  const shell = defaultShell(family);
  const made = new Set<string>();
  for (const [index, input] of step.inputs.entries()) {
    const file = options.files[index];
    if (!file) throw new Error(`internal: input ${index} of step ${step.id} was not fetched`);
    const guestPath = input.guestPath ?? guestJoin(family, step.uploadDir ?? defaultUploadDir(family, step.id), basename(file.origin));
    const dir = guestDirname(family, guestPath);
    const started = clock().getTime();
    if (!made.has(dir)) {
      const created = await withStepTimeout(step.id, HELPER_TIMEOUT_MS, `creating ${dir} in the guest`, options.signal, (signal) =>
        channel.exec(mkdirScript(shell, dir), { shell, timeoutMs: HELPER_TIMEOUT_MS, signal }),
      );
      if (created.exitCode !== 0) throw new GuestCommandFailedError(step.id, created.exitCode, created.stdout + created.stderr, log.path);
      made.add(dir);
    }
    log.note(clock(), `upload ${input.name} (${file.size} bytes, sha256 ${file.sha256}) -> ${guestPath}`);
    const uploaded = await channel.upload(file.path, guestPath, options.signal);
    options.spent.inGuestMs += clock().getTime() - started;
    if (uploaded.sha256 !== file.sha256) throw new UploadChecksumError(step.id, input.name, file.sha256, uploaded.sha256);
    log.note(clock(), `upload checked inside the guest: sha256 ${uploaded.sha256}`);
  }
}

async function runCommand(options: GuestStepOptions, command: GuestCommand, index: number): Promise<{ exitCode: number; rebootRequired: boolean }> {
  const { step, channel, log, clock } = options;
  const env = Object.fromEntries(Object.entries(command.secretEnv ?? {}).map(([name, ref]) => [name, options.resolveSecret(ref)]));
  // The log shows the command as written; with secrets, cmd runs inside a PowerShell wrapper.
  const { shell, script } = withEnvironment(command.shell, env, command.command);
  const timeoutMs = command.timeoutSeconds * 1000;
  const maxRuns = command.maxRuns ?? 1;
  for (let run = 1; ; run++) {
    log.note(clock(), `command ${index + 1}/${step.commands.length}${run > 1 ? ` (run ${run})` : ""} (${command.shell}):\n${log.redact(command.command)}`);
    let output = "";
    const started = clock().getTime();
    let exitCode: number;
    try {
      const result = await withStepTimeout(step.id, timeoutMs, `command ${index + 1} did not finish`, options.signal, (signal) =>
        channel.exec(script, {
          shell,
          timeoutMs,
          signal,
          onOutput: (chunk) => {
            output += chunk;
            log.write(chunk);
          },
        }),
      );
      exitCode = result.exitCode;
      // Channels that only return output at the end: keep it for the log and the error.
      if (output === "" && (result.stdout || result.stderr)) {
        output = result.stdout + result.stderr;
        log.write(output.endsWith("\n") ? output : `${output}\n`);
      }
    } catch (error) {
      if (!(error instanceof GuestDisconnectedError) || step.reboot === "never") throw error;
      // The command rebooted the guest itself (an installer that restarts): expected for a step
      // that may reboot; its exit code is lost, the step continues once the agent is back.
      options.spent.inGuestMs += clock().getTime() - started;
      log.note(clock(), "the guest channel dropped: the command rebooted the guest; waiting for the agent");
      await waitForAgent(options, `the agent after command ${index + 1} rebooted the guest`);
      return { exitCode: 0, rebootRequired: false };
    }
    options.spent.inGuestMs += clock().getTime() - started;
    log.note(clock(), `exit code ${exitCode}`);
    // Reboot and rerun codes are success codes too (3010 is "succeeded, reboot required"): they
    // are looked at first, or a success code would end the command without its reboot or rerun.
    if (command.rerunCodes?.includes(exitCode) && run < maxRuns) {
      log.note(clock(), `exit code ${exitCode} asks for a reboot and another run (${run}/${maxRuns})`);
      await reboot(options, `the reboot before run ${run + 1} of command ${index + 1}`);
      continue;
    }
    if (command.rebootCodes.includes(exitCode)) return { exitCode, rebootRequired: true };
    if (command.successCodes.includes(exitCode)) return { exitCode, rebootRequired: false };
    throw new GuestCommandFailedError(step.id, exitCode, log.redact(output), log.path);
  }
}

async function reboot(options: GuestStepOptions, what: string): Promise<void> {
  await timedBoot(options, what, `${what}: the guest agent did not answer`, (signal) => options.channel.reboot(options.bootTimeoutMs, signal));
}

export async function waitForAgent(
  options: Pick<GuestStepOptions, "step" | "channel" | "signal" | "bootTimeoutMs" | "clock" | "spent" | "watchBoot">,
  what: string,
): Promise<void> {
  await timedBoot(options, `waiting for ${what}`, `waiting for ${what}: the guest agent did not answer`, (signal) => options.channel.waitReady(options.bootTimeoutMs, signal));
}

/** A boot-time wait: bounded by the boot timeout, watched when the build watches, counted as boot time. */
async function timedBoot(
  options: Pick<GuestStepOptions, "step" | "signal" | "bootTimeoutMs" | "clock" | "spent" | "watchBoot">,
  waitingFor: string,
  timeoutText: string,
  wait: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const started = options.clock().getTime();
  const bounded = (outer: AbortSignal) => withStepTimeout(options.step.id, options.bootTimeoutMs, timeoutText, outer, wait);
  await (options.watchBoot ? options.watchBoot(waitingFor, bounded) : bounded(options.signal));
  options.spent.bootMs += options.clock().getTime() - started;
}
