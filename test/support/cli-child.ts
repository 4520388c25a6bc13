/**
 * The rebake CLI run as users run it, in a child process with `--json`: its build events parsed as
 * they arrive (so a test can act on the VM mid-build), its stderr and exit code. A run that
 * outlives its bound is killed, so no test waits on a hung build.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { BuildEvent } from "../../src/runner/events.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly events: BuildEvent[];
  readonly stderr: string;
}

export interface CliChildOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long. */
  readonly boundMs: number;
  readonly onEvent?: (event: BuildEvent, child: ChildProcess) => void;
}

export async function runCliJson(args: readonly string[], options: CliChildOptions): Promise<CliRun> {
  const child = spawn(process.execPath, ["--import", join(root, "node_modules/tsx/dist/esm/index.mjs"), join(root, "src/cli/main.ts"), ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.boundMs);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const events: BuildEvent[] = [];
  for await (const line of createInterface({ input: child.stdout! })) {
    const event = JSON.parse(line) as BuildEvent;
    events.push(event);
    options.onEvent?.(event, child);
  }
  const code = await exited;
  clearTimeout(timer);
  return { code, events, stderr };
}
