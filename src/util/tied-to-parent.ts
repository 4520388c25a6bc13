/**
 * A child process that dies with this one. Node runs no exit handler when it is killed by a signal
 * (SIGKILL, or SIGTERM without a handler), so a VM started by a build or a test would outlive it.
 * util-linux's setpriv asks the kernel to send the child SIGKILL when its parent dies
 * (PR_SET_PDEATHSIG, kept across exec), then execs the real command in its place.
 */
import { existsSync } from "node:fs";

/** util-linux, an essential package on Debian: present on every machine rebake runs on. */
export const SETPRIV = "/usr/bin/setpriv";

/** `[command, args]` to spawn: wrapped in setpriv when `tie` is on and setpriv exists. */
export function tiedToParent(command: string, args: readonly string[], tie: boolean, setpriv: string = SETPRIV): [string, string[]] {
  if (!tie || !existsSync(setpriv)) return [command, [...args]];
  return [setpriv, ["--pdeathsig", "KILL", "--", command, ...args]];
}
