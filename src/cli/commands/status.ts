/** `rebake status`: for every stack, the pinned version against what its sites and catalogs serve. */
import { parseCommandArgs } from "../args.ts";
import { EXIT, type CliIo } from "../io.ts";
import { runRelease } from "../release-io.ts";
import { accessName } from "../../publish/pvs-drift.ts";
import { liveReader, status, type PvsServes, type ServedReader, type StackStatus } from "../../publish/release-status.ts";

export const HELP = `usage: rebake status [--json]

For every stack in stacks/: the image and version it pins, when that version was built, whether it
was verified, when it was published to the stack (releases/audit.jsonl), whether it is revoked;
for PVS stacks the versions the retention rule keeps (keepVersions in Pulumi.yaml) and the
versions each site's store holds, and what PVS itself has registered (each site's vDisks and
their versions' access, read through pvs.executor: the pinned vDisk or vDisk version must have
the stack's accessMode: maintenance, test or production); for MCS stacks the master image each
catalog uses (read from CVAD). Differences are reported as drift. A store, PVS server or catalog that cannot be reached
is named, not guessed, and not counted as drift.

options:
  --json   print the rows as JSON (for CI)
  --help   show this help

exit codes: 0 no drift, 1 drift found (or an invalid stack), 2 wrong usage
`;

function pvsLines(stack: string, pvs: PvsServes): string[] {
  if (pvs.unreachable !== undefined) return [`${stack}: PVS not read, so not compared: ${pvs.unreachable}`];
  return (pvs.sites ?? []).map((site) => {
    const at = `${stack}: PVS site ${site.siteName} (store ${site.storeName})`;
    if ("error" in site) return `${at}: not read: ${site.error}`;
    const vdisk = pvs.expected ? site.vdisks.find((d) => d.name === pvs.expected!.vdisk) : undefined;
    if (!vdisk) return `${at}: ${pvs.expected ? `no vDisk ${pvs.expected.vdisk}; ` : ""}registered: ${site.vdisks.map((d) => d.name).join(", ") || "no vDisk"}`;
    return `${at}: ${vdisk.name} versions ${vdisk.versions.map((v) => `${v.version} ${accessName(v.access)}`).join(", ") || "none"}`;
  });
}

function render(rows: readonly StackStatus[]): string {
  const table = [["STACK", "IMAGE", "VERSION", "BUILT", "VERIFIED", "PUBLISHED", "KEEPS"], ...rows.map((r) => [r.stack, r.image, r.version + (r.revoked ? " (revoked)" : ""), r.built ?? "-", r.verified, r.published ?? "-", r.keep.map((k) => `${k.version} (${k.why})`).join(", ") || "-"])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  for (const row of rows) {
    for (const site of row.sites) lines.push(`${row.stack}: site ${site.site} (${site.store}): ${site.versions ? `holds ${site.versions.join(", ") || "no version"}` : `not read: ${site.unreachable}`}`);
    if (row.pvs) lines.push(...pvsLines(row.stack, row.pvs));
    for (const catalog of row.catalogs) lines.push(`${row.stack}: catalog ${catalog.catalog}: ${catalog.serves !== undefined ? `uses ${catalog.serves}` : `not read: ${catalog.unreachable}`}`);
    for (const drift of row.drift) lines.push(`${row.stack}: DRIFT ${drift}`);
  }
  return `${lines.join("\n")}\n`;
}

export async function run(args: readonly string[], io: CliIo, reader: ServedReader = liveReader(io.env)): Promise<number> {
  const { values } = parseCommandArgs(args, {}, 0);
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  let drifted = false;
  const code = await runRelease("status", io, async () => {
    const rows = await status(io.cwd, reader);
    drifted = rows.some((r) => r.drift.length > 0);
    return values.json ? `${JSON.stringify(rows, null, 2)}\n` : render(rows);
  });
  return code === EXIT.ok && drifted ? EXIT.failed : code;
}
