/** `rebake rollback --stack <stack> --reason <why>`: pins the version the stack ran before and revokes the abandoned one. */
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { releaseContext, reportPin, runRelease } from "../release-io.ts";
import { rollback } from "../../publish/release.ts";
import { createExec, type Exec } from "../../util/exec.ts";

export const HELP = `usage: rebake rollback --stack <stack> --reason TEXT [--to VERSION] [--markdown] [--json]

Pins in stacks/Pulumi.<stack>.yaml the newest version published to that stack before the current
one that is not revoked (or --to VERSION), the same one-line edit as promote, and revokes the
version it abandons: nothing pins it again until rebake revoke <image> <version> --undo. Both are
appended to releases/audit.jsonl with the reason.

options:
  --stack NAME     the stack to roll back
  --reason TEXT    why (required): recorded in the audit log and on the revoked version
  --to VERSION     the version to go back to (default: the newest earlier one not revoked)
  --markdown       print the change log as Markdown
  --json           print { file, from, to, downgrade, changes, audit }
  --help           show this help

exit codes: 0 pinned, 1 nothing to roll back to, revoked target or invalid stack, 2 wrong usage
`;

export async function run(args: readonly string[], io: CliIo, exec: Exec = createExec()): Promise<number> {
  const { values } = parseCommandArgs(args, { stack: { type: "string" }, reason: { type: "string" }, to: { type: "string" }, markdown: { type: "boolean" } }, 0);
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  if (!values.stack) throw new UsageError(`name the stack with --stack`);
  const reason = values.reason?.trim();
  if (!reason) throw new UsageError(`say why with --reason "<why>": the audit log and the revoked version record it`);
  const { stack, to } = values;
  const format = values.json ? "json" : values.markdown ? "markdown" : "text";
  return runRelease("rollback", io, async () => reportPin(await rollback(await releaseContext(io, exec), stack, reason, to), format));
}
