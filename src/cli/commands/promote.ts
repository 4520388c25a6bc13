/** `rebake promote <image> --from <stack> --to <stack>`: pins the lower stack's verified, published version in the higher stack. */
import { parseCommandArgs } from "../args.ts";
import { ruleOf } from "../rule-of.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { renderChangelog } from "../../publish/changelog.ts";
import { promote, ReleaseError, type PromoteResult } from "../../publish/release.ts";
import { StackConfigError, StackNotFoundError } from "../../stacks/load-stack.ts";

export const HELP = `usage: rebake promote <image> --from <stack> --to <stack> [--markdown] [--json]

Pins in stacks/Pulumi.<to>.yaml the version <from> runs, only if that version was verified and
published to <from>. Only the version line changes (comments and layout stay): commit it as a
reviewable change; publishing it is the next step (rebake publish --stack <to>). Prints the change
log between the old and the new version.

options:
  --from STACK   the stack whose version is promoted
  --to STACK     the stack whose pin changes
  --markdown     print the change log as Markdown (for a PR description)
  --json         print { file, from, to, changes }
  --help         show this help

exit codes: 0 pinned, 1 refused (unverified, unpublished, invalid stack), 2 wrong usage
`;

export function report(result: PromoteResult, markdown: boolean, json: boolean): string {
  const { change, older, newer } = result;
  if (json) return `${JSON.stringify({ file: change.file, from: change.from, to: change.to }, null, 2)}\n`;
  const head = change.from === change.to ? `${change.file} already pins ${change.to}\n` : `${change.file}: ${change.from} -> ${change.to}\n`;
  return `${head}${older ? renderChangelog(older, newer, markdown ? "markdown" : "text") : `(no manifest of ${change.from}: no change log)\n`}`;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { from: { type: "string" }, to: { type: "string" }, markdown: { type: "boolean" } });
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const [image, ...extra] = positionals;
  if (!image || extra.length || !values.from || !values.to) throw new UsageError(`name one image, --from and --to`);
  const { from, to } = values;
  return pinAndReport("promote", () => promote(io.cwd, image, from, to), Boolean(values.markdown), Boolean(values.json), io);
}

/** Runs a pin change (promote, rollback) and prints it, or why it was refused (exit 1). */
export async function pinAndReport(command: string, pin: () => Promise<PromoteResult>, markdown: boolean, json: boolean, io: CliIo): Promise<number> {
  try {
    io.stdout(report(await pin(), markdown, json));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ReleaseError || error instanceof StackConfigError || error instanceof StackNotFoundError) {
      io.stderr(`rebake ${command}: ${ruleOf(error)}  ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
}
