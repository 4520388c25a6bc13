/**
 * A long-running child (qemu, swtpm) the driver owns: its exit is observable, stopping escalates
 * from SIGTERM to SIGKILL, and whatever is still running when Node exits is killed, so no error
 * or abort path can leave a VM behind.
 */
import type { ChildProcess } from "node:child_process";

/** How long a process gets to exit after SIGTERM before SIGKILL. */
export const TERM_GRACE_MS = 5_000;

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const living = new Set<TrackedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // "exit" handlers must be synchronous: a kill signal is all that can be sent.
  process.on("exit", () => {
    for (const tracked of living) tracked.killNow();
  });
}

export class TrackedProcess {
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;
  private stderrTail = "";

  constructor(
    readonly child: ChildProcess,
    /** Names the process in errors ("qemu for vm build-1"). */
    readonly label: string,
  ) {
    installExitHook();
    living.add(this);
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-4096);
    });
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exit) return;
        this.exit = { code, signal };
        living.delete(this);
        resolve(this.exit);
      };
      child.once("exit", done);
      // A spawn failure (ENOENT) emits "error" and never "exit".
      child.once("error", () => done(null, null));
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The end of what the process wrote to stderr, for error messages. */
  get stderr(): string {
    return this.stderrTail.trim();
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = TERM_GRACE_MS): Promise<ProcessExit> {
    if (this.exit) return this.exit;
    this.child.kill("SIGTERM");
    const timer = new Promise<"timeout">((resolve) => setTimeout(resolve, graceMs, "timeout").unref());
    if ((await Promise.race([this.exited, timer])) === "timeout") this.child.kill("SIGKILL");
    return this.exited;
  }

  /** Waits up to `timeoutMs` for the process to exit by itself; true when it did. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    if (this.exit) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
    const result = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  killNow(): void {
    if (this.exit === undefined) this.child.kill("SIGKILL");
  }
}
