/** What a command may touch: passed in, so commands run hermetically in tests. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (live progress) or not (plain timestamped lines). */
  readonly isTty: boolean;
  /** Aborted on SIGINT / SIGTERM. */
  readonly signal: AbortSignal;
}

/** Exit codes that mean something, shared by every command. */
export const EXIT = {
  ok: 0,
  /** Invalid input, a failed build step, a failed check. */
  failed: 1,
  /** Wrong command-line usage. */
  usage: 2,
  /** Some sites or targets succeeded and some failed. */
  partial: 3,
  /** Interrupted by SIGINT / SIGTERM. */
  interrupted: 130,
} as const;

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A command: parses its own arguments and returns an exit code. */
export type Command = (args: readonly string[], io: CliIo) => Promise<number>;
