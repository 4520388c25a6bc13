/** `rebake status`: for every stack, the pinned image version, when it was built, whether verified and published. */
import { parseCommandArgs } from "../args.ts";
import { EXIT, type CliIo } from "../io.ts";
import { status } from "../../publish/release.ts";

export const HELP = `usage: rebake status [--json]

For every stack in stacks/: the image and version it pins, when that version was built, whether it
was verified, and when it was published to the stack.
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, {}, 0);
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const rows = await status(io.cwd);
  if (values.json) {
    io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    return EXIT.ok;
  }
  const table = [["STACK", "IMAGE", "VERSION", "BUILT", "VERIFIED", "PUBLISHED"], ...rows.map((r) => [r.stack, r.image, r.version, r.built ?? "-", r.verified, r.published ?? "-"])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  io.stdout(`${table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n")}\n`);
  return EXIT.ok;
}
