/**
 * `rebake devices validate <file...> [--stack <name>]`: checks PVS device manifests (CSV or YAML:
 * mac, name, collection, site, image) together, so a MAC or name used twice across files is found.
 */
import { isAbsolute, join, relative } from "node:path";
import { knownNames, loadDevices } from "../../devices/load-devices.ts";
import { countProblems, formatReport, problemsAsJson } from "../../recipe/format-problems.ts";
import { loadStack } from "../../stacks/load-stack.ts";
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";

export const HELP = `usage: rebake devices validate <manifest.csv|manifest.yaml>... [--stack NAME] [--json]

Checks device manifests: one PVS target device per row with mac, name, collection, site, image.
  - MAC addresses as aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or aabbccddeeff (normalised)
  - no MAC and no device name twice, across all the files given
  - device names of at most 15 characters (NetBIOS), letters, digits and hyphens
  - images that are recipes of this project; with --stack, sites that are sites of the stack
The publish program turns each valid row into one PVS device (New-PvsDevice -DeviceMac,
Add-PvsDiskLocatorToDevice), named by MAC: adding a row adds a device, removing one removes it.

options:
  --stack NAME   also check sites (and the pinned image) against stacks/Pulumi.<NAME>.yaml
  --json         { problems, files, errors, warnings, devices }
  --help         show this help

exit codes: 0 valid, 1 problems found, 2 usage
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { stack: { type: "string" } });
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const [sub, ...files] = positionals;
  if (sub !== "validate") throw new UsageError(`name a subcommand: validate`);
  if (files.length === 0) throw new UsageError(`name at least one manifest file`);
  const stack = values.stack ? await loadStack(io.cwd, values.stack) : undefined;
  const known = await knownNames(io.cwd, stack);
  const paths = files.map((file) => {
    const path = isAbsolute(file) ? file : join(io.cwd, file);
    return { path, shownAs: isAbsolute(file) ? relative(io.cwd, file) || file : file };
  });
  const { devices, problems } = await loadDevices(paths, known);
  if (values.json) {
    const report = JSON.parse(problemsAsJson(problems, files.length)) as Record<string, unknown>;
    io.stdout(`${JSON.stringify({ ...report, devices }, null, 2)}\n`);
  } else {
    io.stdout(formatReport(problems, files.length));
    if (problems.length === 0) io.stdout(`${devices.length} device${devices.length === 1 ? "" : "s"}\n`);
  }
  return countProblems(problems).errors > 0 ? EXIT.failed : EXIT.ok;
}
