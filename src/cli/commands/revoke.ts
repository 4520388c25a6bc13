/** `rebake revoke <image> <version> --reason <why> [--undo]`: takes a version out of service, or puts it back. */
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { releaseContext, runRelease } from "../release-io.ts";
import { revoke } from "../../publish/release.ts";
import { createExec, type Exec } from "../../util/exec.ts";

export const HELP = `usage: rebake revoke <image> <version> --reason TEXT [--undo] [--json]

Marks a version revoked in releases/audit.jsonl: promote, rollback and publish refuse to pin it
again until it is un-revoked with --undo. Revoking does not change what stacks pin: roll back the
stacks it names. rebake rollback revokes the version it abandons by itself.

options:
  --reason TEXT  why (required), recorded in the audit log
  --undo         un-revoke: the version may be pinned again
  --json         print the audit entry and the stacks that still pin the version
  --help         show this help

exit codes: 0 recorded, 1 refused (already revoked, not revoked, invalid stack), 2 wrong usage
`;

export async function run(args: readonly string[], io: CliIo, exec: Exec = createExec()): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { reason: { type: "string" }, undo: { type: "boolean" } });
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const [image, version, ...extra] = positionals;
  if (!image || !version || extra.length) throw new UsageError(`name one image and one version`);
  const reason = values.reason?.trim();
  if (!reason) throw new UsageError(`say why with --reason "<why>"`);
  const undo = Boolean(values.undo);
  return runRelease("revoke", io, async () => {
    const { entry, pinnedBy } = await revoke(await releaseContext(io, exec), image, version, reason, undo);
    if (values.json) return `${JSON.stringify({ audit: entry, pinnedBy }, null, 2)}\n`;
    const still = pinnedBy.length ? `; still pinned by ${pinnedBy.join(", ")}: roll ${pinnedBy.length === 1 ? "it" : "them"} back (rebake rollback --stack <stack>)` : "";
    return `${image} ${version} ${undo ? "un-revoked: it may be pinned again" : `revoked${still}`}\n`;
  });
}
