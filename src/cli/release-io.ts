/**
 * What the release commands (publish, promote, rollback, revoke) share: who runs them and from
 * which commit (for the audit log), how a pin change is printed, and which refusals are the
 * user's to fix (exit 1, the message only) rather than a fault.
 */
import { EXIT, type CliIo } from "./io.ts";
import { ruleOf } from "./rule-of.ts";
import { changelog, renderChangelog } from "../publish/changelog.ts";
import { PulumiUnavailableError } from "../publish/pulumi-cli.ts";
import { ReleaseError, type PinResult, type ReleaseContext } from "../publish/release.ts";
import { AuditLogError } from "../release/audit-log.ts";
import { ReleaseActorError, resolveActor } from "../release/release-actor.ts";
import { ReleasePolicyError } from "../release/release-policy.ts";
import { StackConfigError, StackNotFoundError } from "../stacks/load-stack.ts";
import { PinError } from "../stacks/pin-version.ts";
import type { Exec } from "../util/exec.ts";

/** The release context of the command: the actor is read from git once, when first asked. */
export async function releaseContext(io: CliIo, exec: Exec): Promise<ReleaseContext> {
  let actor: ReturnType<typeof resolveActor> | undefined;
  return { root: io.cwd, actor: () => (actor ??= resolveActor(io.cwd, exec, io.env)) };
}

const REFUSALS = [ReleaseError, PulumiUnavailableError, StackConfigError, StackNotFoundError, ReleaseActorError, ReleasePolicyError, AuditLogError, PinError];

/** Runs a release action and prints what it returns, or why it was refused (exit 1). */
export async function runRelease(command: string, io: CliIo, action: () => Promise<string>): Promise<number> {
  try {
    io.stdout(await action());
    return EXIT.ok;
  } catch (error) {
    if (REFUSALS.some((kind) => error instanceof kind)) {
      // A ReleaseError names its rules itself; the other refusals are shown under their rule.
      const message = (error as Error).message.trimEnd();
      io.stderr(`rebake ${command}: ${error instanceof ReleaseError ? message : `${ruleOf(error as Error)}  ${message}`}\n`);
      return EXIT.failed;
    }
    throw error;
  }
}

/** A pin change as text (with the change log), Markdown, or JSON with every field the help promises. */
export function reportPin(result: PinResult, format: "text" | "markdown" | "json"): string {
  const { change, older, newer, entry } = result;
  if (format === "json") {
    return `${JSON.stringify({
      file: change.file, from: change.from, to: change.to, downgrade: result.downgrade,
      changes: older ? changelog(older, newer) : null,
      ...(entry ? { audit: entry } : {}),
    }, null, 2)}\n`;
  }
  const verb = result.downgrade ? "downgraded" : "pinned";
  const head = change.from === change.to ? `${change.file} already pins ${change.to}\n` : `${change.file}: ${verb} ${change.from} -> ${change.to}${entry?.overrides?.length ? ` (overriding ${entry.overrides.join(", ")}: ${entry.reason})` : ""}\n`;
  return `${head}${older ? renderChangelog(older, newer, format) : `(no manifest of ${change.from}: no change log)\n`}`;
}
