/** `rebake promote <image> --from <stack> --to <stack>`: pins the lower stack's verified, published version in the next stack. */
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { releaseContext, reportPin, runRelease } from "../release-io.ts";
import { promote } from "../../publish/release.ts";
import type { RuleOverride } from "../../release/audit-log.ts";
import { createExec, type Exec } from "../../util/exec.ts";

export const HELP = `usage: rebake promote <image> --from <stack> --to <stack> [--reason TEXT] [--out-of-order] [--downgrade] [--markdown] [--json]

Pins in stacks/Pulumi.<to>.yaml the version <from> runs, only if that version was verified,
published to <from> and is not revoked, and <to> is the stage after <from> in the promotion order
(stackOrder in Pulumi.yaml, dev -> test -> prod by default). Only the version line changes
(comments and layout stay); the promotion is appended to releases/audit.jsonl (who, when, commit,
version, stack, reason). Commit both as one reviewable change; publishing is the next step
(rebake publish --stack <to>). Prints the change log between the old and the new version.

options:
  --from STACK     the stack whose version is promoted
  --to STACK       the stack whose pin changes
  --reason TEXT    why; required with --out-of-order or --downgrade, recorded in the audit log
  --out-of-order   allow skipping a stage (dev -> prod) or going against the order (prod -> dev)
  --downgrade      allow pinning an older version than <to> pins
  --markdown       print the change log as Markdown (for a PR description)
  --json           print { file, from, to, downgrade, changes, audit }: changes is the change log
                   (component, kind, from, to), audit the appended audit entry
  --help           show this help

exit codes: 0 pinned, 1 refused (a rule, unverified, unpublished, revoked, invalid stack), 2 wrong usage
`;

export async function run(args: readonly string[], io: CliIo, exec: Exec = createExec()): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { from: { type: "string" }, to: { type: "string" }, reason: { type: "string" }, "out-of-order": { type: "boolean" }, downgrade: { type: "boolean" }, markdown: { type: "boolean" } });
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const [image, ...extra] = positionals;
  if (!image || extra.length || !values.from || !values.to) throw new UsageError(`name one image, --from and --to`);
  const overrides = new Set<RuleOverride>([...(values["out-of-order"] ? ["out-of-order" as const] : []), ...(values.downgrade ? ["downgrade" as const] : [])]);
  const reason = values.reason?.trim();
  if (overrides.size && !reason) throw new UsageError(`--${[...overrides].join(" and --")} needs --reason "<why>": the audit log and the change record say why the rule was overridden`);
  const { from, to } = values;
  const format = values.json ? "json" : values.markdown ? "markdown" : "text";
  return runRelease("promote", io, async () => reportPin(await promote(await releaseContext(io, exec), { image, from, to, overrides, ...(reason ? { reason } : {}) }), format));
}
