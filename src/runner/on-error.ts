/**
 * What happens to the golden VM when a build fails: `cleanup` releases everything, `keep` leaves
 * the VM (and the disk it writes to) running for debugging and says how to reach it. A policy is a
 * decision about cleanup entries, applied by the runner around the steps, not a flag inside them.
 */
import type { CleanupEntry } from "../util/cleanup-stack.ts";

export type OnErrorPolicy = "cleanup" | "keep";

export const ON_ERROR_POLICIES: readonly OnErrorPolicy[] = ["cleanup", "keep"];

/** Which entries to leave in place once the build ended with `failed`. */
export function keepDecision(policy: OnErrorPolicy, failed: boolean, interrupted: boolean): (entry: CleanupEntry) => boolean {
  // An interrupt means the user wants the build gone, whatever the policy.
  if (policy === "cleanup" || !failed || interrupted) return () => false;
  return (entry) => entry.keepOnError;
}
