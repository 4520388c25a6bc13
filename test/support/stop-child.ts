/** Stopping a test server's child process: SIGTERM, SIGKILL if it is still there after a grace period. */
import type { ChildProcess } from "node:child_process";

const GRACE_MS = 5_000;

/** Resolves once the child has exited; at once if it already had. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), GRACE_MS);
  await exited;
  clearTimeout(timer);
}
