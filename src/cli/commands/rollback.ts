/** `rebake rollback --stack <stack>`: pins the version the stack ran before, from its publish records. */
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { rollback } from "../../publish/release.ts";
import { pinAndReport } from "./promote.ts";

export const HELP = `usage: rebake rollback --stack <stack> [--markdown] [--json]

Pins in stacks/Pulumi.<stack>.yaml the version published to that stack before the current one
(from the publish records beside the manifests), the same one-line edit as promote.

exit codes: 0 pinned, 1 nothing to roll back to or invalid stack, 2 wrong usage
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { stack: { type: "string" }, markdown: { type: "boolean" } }, 0);
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  if (!values.stack) throw new UsageError(`name the stack with --stack`);
  const stack = values.stack;
  return pinAndReport("rollback", () => rollback(io.cwd, stack), Boolean(values.markdown), Boolean(values.json), io);
}
