/**
 * `rebake sync --stack <name>`: copies the stack's pinned vDisk into the store of every PVS site
 * of the stack: skipped where it already is, a block delta against the newest version a site
 * holds, or a full copy. Exit 0 when every site has it, 3 when some sites failed.
 */
import { formatSize, parseSize, UnitError } from "../../cache/units.ts";
import { indexSyncSource, locateSyncSource, sitesOf } from "../../distribute/source.ts";
import { DEFAULT_CONCURRENCY, syncAll } from "../../distribute/sync.ts";
import { createSyncView } from "../progress/sync-view.ts";
import { TokenBucket, UNLIMITED } from "../../distribute/token-bucket.ts";
import { readVersionRecord } from "../../distribute/version-record.ts";
import { DEFAULT_MAX_DELTA_FRACTION } from "../../distribute/version-route.ts";
import { syncVersionAll, versionSourceOf } from "../../distribute/version-sync.ts";
import { loadStack } from "../../stacks/load-stack.ts";
import { stackSecretLookup } from "../wiring.ts";
import { createExec } from "../../util/exec.ts";
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";

/** More sites at once than this only splits the same links and disks finer. */
const MAX_CONCURRENCY = 64;

export const HELP = `usage: rebake sync --stack <name> [--verify] [--bwlimit 50M] [--concurrency N] [--from DIR] [--full] [--max-delta-fraction F] [--json]

Copies the vDisk of the version the stack pins into the store of every PVS site of the stack.
A site that holds the same name, size and recorded sha256 is skipped without reading the vDisk.
Otherwise the new file is built at the site from the newest version it already holds plus the
blocks that differ (a <name>.blockmap beside every vDisk says which), verified by sha256 at the
site, and renamed into place. An interrupted sync continues where it stopped.
smb:// stores are reached with smbclient, which only writes whole files: they get a full copy,
without resume or --bwlimit. Mount the share and use the mount path to get the delta.
When the pinned build was written as a PVS vDisk version (rebake version), a site holding the
version's parent gets only the <vdisk>.<n>.avhdx; a site without the parent, or a version larger
than --max-delta-fraction of the full vDisk, gets the full vDisk, and the output says why.

options:
  --stack NAME        the stack (stacks/Pulumi.<name>.yaml)
  --from DIR          take <vdisk>.vhdx from this directory (an HQ store) instead of the build output
  --verify            reread each site's copy to check it, even when its sidecar matches
  --bwlimit RATE      bytes per second for all sites together, e.g. 50M (filesystem stores)
  --concurrency N     sites at once, 1 to ${MAX_CONCURRENCY} (default: ${DEFAULT_CONCURRENCY})
  --full              ship the full vDisk even when the build is a vDisk version
  --max-delta-fraction F  largest version, as a fraction of the full vDisk, to ship as a version (default: ${DEFAULT_MAX_DELTA_FRACTION})
  --json              machine-readable result
  --help              show this help

exit codes: 0 every site has the vDisk, 1 nothing could be synced, 2 usage, 3 some sites failed
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, {
      stack: { type: "string" },
      from: { type: "string" },
      verify: { type: "boolean" },
      bwlimit: { type: "string" },
      concurrency: { type: "string" },
      full: { type: "boolean" },
      "max-delta-fraction": { type: "string" },
    }, 0);
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  if (!values.stack) throw new UsageError(`--stack is required`);
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!/^\d+$/.test(values.concurrency ?? "1") || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new UsageError(`--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got '${values.concurrency}'`);
  }
  let bytesPerSecond: number | undefined;
  try {
    bytesPerSecond = values.bwlimit === undefined ? undefined : parseSize(values.bwlimit);
  } catch (error) {
    if (error instanceof UnitError) throw new UsageError(`--bwlimit: ${error.message}`);
    throw error;
  }
  if (bytesPerSecond === 0) throw new UsageError("--bwlimit must be above 0");
  const maxDeltaFraction = values["max-delta-fraction"] === undefined ? undefined : Number(values["max-delta-fraction"]);
  if (maxDeltaFraction !== undefined && !(maxDeltaFraction >= 0 && maxDeltaFraction <= 1)) throw new UsageError(`--max-delta-fraction must be a number from 0 to 1, got '${values["max-delta-fraction"]}'`);

  const stack = await loadStack(io.cwd, values.stack);
  const pulumiSecret = await stackSecretLookup(stack.pvs?.sites.map((site) => site.store.password) ?? [], { stack: stack.stack, cwd: io.cwd, exec: createExec(), signal: io.signal });
  const sites = sitesOf(stack, io.env, pulumiSecret);
  if (bytesPerSecond && sites.some((s) => s.location.startsWith("smb://")) && !values.json) {
    io.stderr(`rebake sync: --bwlimit does not apply to smb:// stores (smbclient has no rate limit)\n`);
  }
  const view = values.json ? undefined : createSyncView(io.isTty ? "tty" : "plain", io.stdout);
  const resolveOptions = { ...(values.from ? { from: values.from } : {}), signal: io.signal };
  const located = await locateSyncSource(io.cwd, stack, resolveOptions);
  const record = values.full ? undefined : await readVersionRecord(located.manifestPath);
  const throttle = bytesPerSecond ? new TokenBucket(bytesPerSecond) : UNLIMITED;
  if (record) {
    // The full vDisk is indexed (one read of all of it) only if a site needs it instead of the version.
    const version = versionSourceOf(record, located.manifestPath, { vdisk: located.vdisk, size: located.expected.size, index: () => indexSyncSource(located, resolveOptions) });
    if (!values.json) io.stdout(`syncing version ${record.number} of ${record.vdisk} (${version.file}, ${formatSize(version.size)}; full vDisk ${formatSize(located.expected.size)}) to ${sites.length} site${sites.length === 1 ? "" : "s"}\n`);
    const results = await syncVersionAll(version, sites, { concurrency, throttle, ...(values.verify ? { verify: true } : {}), signal: io.signal, ...(maxDeltaFraction === undefined ? {} : { maxDeltaFraction }) });
    const code = exitCode(results);
    if (values.json) io.stdout(`${JSON.stringify({ stack: stack.stack, vdisk: record.vdisk, version: version.file, size: version.size, sha256: version.sha256, sites: results, exitCode: code }, null, 2)}\n`);
    else for (const r of results) io.stdout(`${r.site}: ${r.status === "version" ? `version ${version.file}` : r.status === "full" ? `full vDisk ${located.vdisk}.vhdx` : r.status}, sent ${formatSize(r.sentBytes)}: ${r.error ? r.error.message : r.reason}\n`);
    return code;
  }
  const source = await indexSyncSource(located, resolveOptions);
  if (!values.json) io.stdout(`syncing ${source.vdisk}.vhdx (${formatSize(source.blockmap.size)}) to ${sites.length} site${sites.length === 1 ? "" : "s"}\n`);
  const results = await syncAll(source, sites, {
    concurrency,
    throttle,
    ...(values.verify ? { verify: true } : {}),
    signal: io.signal,
    ...(view ? { onEvent: view.emit } : {}),
  });
  view?.finish(results);
  const code = exitCode(results);
  if (values.json) io.stdout(`${JSON.stringify({ stack: stack.stack, vdisk: source.vdisk, size: source.blockmap.size, sha256: source.blockmap.sha256, sites: results, exitCode: code }, null, 2)}\n`);
  return code;
}

export function exitCode(results: readonly { readonly status: string }[]): number {
  const failed = results.filter((r) => r.status === "failed").length;
  if (failed === 0) return EXIT.ok;
  return failed === results.length ? EXIT.failed : EXIT.partial;
}
