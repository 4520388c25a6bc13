/**
 * The one exec layer: every external command (qemu, qemu-img, xorriso, govc, smbclient, pwsh)
 * runs through an `Exec`, so tests can pass a recording fake and errors read the same everywhere.
 */
import { $, type ProcessOutput, type ProcessPromise } from "zx";
import { StringDecoder } from "node:string_decoder";
import type { spawn as nodeSpawn } from "node:child_process";

export interface ExecOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string | Buffer;
  /** Kill the command after this many milliseconds. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Do not throw on a non-zero exit code; the caller reads `exitCode`. */
  readonly nothrow?: boolean;
  /** Each chunk of output as it arrives (decoded as UTF-8), for step logs of long commands. */
  readonly onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
}

export interface ExecResult {
  readonly command: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The signal that killed the command (exitCode is then -1), e.g. `SIGSEGV`. */
  readonly signal?: string;
}

export type Exec = (command: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/** How many lines of output a failure keeps: enough to see the error, short enough to read. */
export const ERROR_TAIL_LINES = 50;

export class ExecError extends Error {
  constructor(message: string, readonly command: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The program is not installed; `hint` says which package provides it. */
export class CommandNotFoundError extends ExecError {}

export class CommandFailedError extends ExecError {
  constructor(readonly result: ExecResult) {
    super(`${result.command} exited with code ${result.exitCode}\n${tail(result.stderr || result.stdout)}`, result.command);
  }
}

export class CommandTimeoutError extends ExecError {}

/** The last `lines` lines of a text, for error messages. */
export function tail(text: string, lines = ERROR_TAIL_LINES): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

/** Debian packages that provide the commands rebake runs, for "not installed" errors. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-img": "qemu-utils",
  "qemu-nbd": "qemu-utils",
  xorriso: "xorriso",
  swtpm: "swtpm",
  smbclient: "smbclient",
  govc: "govc (scripts/build-govmomi.sh)",
  "cloud-init": "cloud-init",
};

/** Builds an Exec on zx; `spawn` is replaceable for tests. */
export function createExec(defaults: { readonly spawn?: typeof nodeSpawn; readonly env?: NodeJS.ProcessEnv } = {}): Exec {
  return async (command, args, options = {}) => {
    const shown = [command, ...args].join(" ");
    const run = $({
      quiet: true,
      nothrow: true,
      ...(defaults.spawn ? { spawn: defaults.spawn } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: { ...process.env, ...defaults.env, ...options.env },
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let output: ProcessOutput;
    let timedOut = false;
    try {
      const running = run`${command} ${args}`;
      if (options.onOutput) forwardOutput(running, options.onOutput);
      // Our own timer, not zx's `timeout`: programs that trap SIGTERM (ssh exits 255) would hide that the timeout fired.
      const timer = options.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            running.kill().catch(() => undefined);
          }, options.timeoutMs)
        : undefined;
      try {
        output = await running;
      } finally {
        clearTimeout(timer);
      }
    } catch (error) {
      throw new ExecError(`${shown}: ${(error as Error).message}`, shown);
    }
    const result: ExecResult = {
      command: shown,
      exitCode: output.exitCode ?? -1,
      stdout: output.stdout,
      stderr: output.stderr,
      ...(output.signal ? { signal: output.signal } : {}),
    };
    // An abort also kills the command: that is the caller's cancellation, not a timeout.
    if (timedOut && !options.signal?.aborted) {
      throw new CommandTimeoutError(`${shown} did not finish within ${options.timeoutMs} ms`, shown);
    }
    if (result.exitCode === 127 && /not found|No such file/.test(result.stderr)) {
      const pkg = PACKAGE_OF[command];
      throw new CommandNotFoundError(
        `${command} is not installed${pkg ? `: install the Debian package ${pkg} (apt-get install ${pkg.split(" ")[0]})` : ""}`,
        shown,
      );
    }
    if (result.exitCode !== 0 && !options.nothrow) throw new CommandFailedError(result);
    return result;
  };
}

/** Passes output chunks on as they arrive; decoders keep UTF-8 characters split across chunks whole. */
function forwardOutput(running: ProcessPromise, onOutput: NonNullable<ExecOptions["onOutput"]>): void {
  for (const stream of ["stdout", "stderr"] as const) {
    const decoder = new StringDecoder("utf8");
    running[stream]?.on("data", (data: Buffer) => {
      const text = decoder.write(data);
      if (text) onOutput(text, stream);
    });
  }
}

/** A recording fake: answers from a table, records every call. */
export function createRecordingExec(
  answer: (command: string, args: readonly string[]) => Partial<ExecResult> | undefined = () => undefined,
): Exec & { readonly calls: { command: string; args: readonly string[]; options?: ExecOptions }[] } {
  const calls: { command: string; args: readonly string[]; options?: ExecOptions }[] = [];
  const fake = async (command: string, args: readonly string[], options?: ExecOptions) => {
    calls.push({ command, args, ...(options ? { options } : {}) });
    const partial = answer(command, args) ?? {};
    const result: ExecResult = { command: [command, ...args].join(" "), exitCode: 0, stdout: "", stderr: "", ...partial };
    if (result.stdout) options?.onOutput?.(result.stdout, "stdout");
    if (result.stderr) options?.onOutput?.(result.stderr, "stderr");
    if (result.exitCode !== 0 && !options?.nothrow) throw new CommandFailedError(result);
    return result;
  };
  return Object.assign(fake, { calls });
}
