/**
 * `rebake cache ls [--json]` and `rebake cache prune [--max-size 20G] [--older-than 7d] [--all]`:
 * the layer cache (one qcow2 per step hash, chained) and the download cache. Prune keeps the
 * newest chains and never removes a layer a kept layer is built on.
 */
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { cacheDirs } from "../../cache/cache-dir.ts";
import { DownloadCache } from "../../cache/download-cache.ts";
import { LayerCache } from "../../cache/layer-cache.ts";
import { tmpdir } from "node:os";
import { selectForPrune, type CacheItem } from "../../cache/prune.ts";
import { WORK_DIR_PREFIX } from "../../runner/steps/prepare.ts";
import { removeAbandonedDirs } from "../../util/owned-dir.ts";
import { formatSize, parseDuration, parseSize, UnitError } from "../../cache/units.ts";
import { formatDuration } from "../progress/format.ts";
import { rm } from "node:fs/promises";
import { pruneDigests } from "../../cache/file-digests.ts";

export const HELP = `usage: rebake cache ls [--json]
       rebake cache prune [--max-size 20G] [--older-than 7d] [--all] [--json]

ls      lists cached layers (step, size, age, parent) and downloads
prune   removes layers and downloads: the newest chains are kept within --max-size, chains whose
        newest layer is older than --older-than go, --all empties the cache. A layer another kept
        layer is built on is never removed. Layer files of killed builds (no commit marker) older
        than an hour go too, and so do remembered file digests whose file is gone or has changed.

options:
  --cache-dir DIR   cache location (default: $REBAKE_CACHE_DIR or .rebake/cache)
  --json            machine-readable output
  --help            show this help
`;

/** Uncommitted layers younger than this may belong to a build that is running now. */
const ORPHAN_GRACE_MS = 3_600_000;
const DOWNLOAD_PREFIX = "download:";

export async function run(args: readonly string[], io: CliIo, now: Date = new Date()): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
      "cache-dir": { type: "string" },
      "max-size": { type: "string" },
      "older-than": { type: "string" },
      all: { type: "boolean" },
    });
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const [sub, ...extra] = positionals;
  if (extra.length > 0 || (sub !== "ls" && sub !== "prune")) throw new UsageError(`name a subcommand: ls or prune`);
  const dirs = cacheDirs(io.cwd, io.env, values["cache-dir"]);
  const layers = new LayerCache(dirs.layers);
  const downloads = new DownloadCache(dirs.downloads);
  const layerList = await layers.list();
  const downloadList = await downloads.list();

  if (sub === "ls") {
    if (values.json) {
      io.stdout(`${JSON.stringify({ dir: dirs.root, layers: layerList, downloads: downloadList.map((d) => ({ sha256: d.sha256, size: d.size, modified: d.modified.toISOString() })) }, null, 2)}\n`);
      return EXIT.ok;
    }
    io.stdout(`layers in ${dirs.layers} (bytes per step: disk layer + saved VM state = all with companions):\n`);
    for (const l of layerList) {
      const bytes = `${formatSize(l.diskBytes).padStart(7)} + ${formatSize(l.stateBytes).padStart(7)} = ${formatSize(l.size).padStart(7)}`;
      io.stdout(`  ${l.hash.slice(0, 12)}  ${bytes}  ${age(now, new Date(l.created)).padStart(8)}  ${l.stepId}${l.parent ? `  (on ${l.parent.slice(0, 12)})` : ""}\n`);
    }
    io.stdout(`downloads in ${dirs.downloads}:\n`);
    for (const d of downloadList) io.stdout(`  ${d.sha256.slice(0, 12)}  ${formatSize(d.size).padStart(7)}  ${age(now, d.modified).padStart(8)}\n`);
    const total = layerList.reduce((s, l) => s + l.size, 0) + downloadList.reduce((s, d) => s + d.size, 0);
    io.stdout(`${layerList.length} layers, ${downloadList.length} downloads, ${formatSize(total)} in all\n`);
    return EXIT.ok;
  }

  if (!values.all && values["max-size"] === undefined && values["older-than"] === undefined) {
    throw new UsageError(`prune needs --max-size, --older-than or --all`);
  }
  let policy;
  try {
    policy = {
      ...(values.all ? { all: true } : {}),
      ...(values["max-size"] !== undefined ? { maxSizeBytes: parseSize(values["max-size"]) } : {}),
      ...(values["older-than"] !== undefined ? { olderThanMs: parseDuration(values["older-than"]) } : {}),
    };
  } catch (error) {
    if (error instanceof UnitError) throw new UsageError(error.message);
    throw error;
  }
  const items: CacheItem[] = [
    ...layerList.map((l) => ({ id: l.hash, size: l.size, created: new Date(l.created), parent: l.parent })),
    ...downloadList.map((d) => ({ id: `${DOWNLOAD_PREFIX}${d.sha256}`, size: d.size, created: d.modified })),
  ];
  const { remove } = selectForPrune(items, policy, now);
  // Children before parents, so an interrupted prune never leaves a layer without its base.
  const order = new Map(layerList.map((l, i) => [l.hash, i]));
  const ordered = [...remove].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  let freed = 0;
  for (const id of ordered) {
    const item = items.find((i) => i.id === id)!;
    if (id.startsWith(DOWNLOAD_PREFIX)) await downloads.remove(id.slice(DOWNLOAD_PREFIX.length));
    else await layers.remove(id);
    freed += item.size;
  }
  const orphans = (await layers.uncommitted()).filter((o) => values.all || now.getTime() - o.modified.getTime() > ORPHAN_GRACE_MS);
  for (const o of orphans) {
    await rm(o.path, { force: true });
    freed += o.size;
  }
  // Work dirs of builds killed without a chance to clean up (their owner process is gone).
  const abandoned = await removeAbandonedDirs(tmpdir(), [WORK_DIR_PREFIX]);
  const staleDigests = await pruneDigests(dirs.digests, { all: Boolean(values.all) });
  const summary = { removed: remove.length + orphans.length, kept: items.length - remove.length, freedBytes: freed, abandonedWorkDirs: abandoned.length, digests: staleDigests };
  io.stdout(
    values.json
      ? `${JSON.stringify(summary)}\n`
      : `removed ${summary.removed} entries (${formatSize(freed)}), kept ${summary.kept}${abandoned.length ? `; removed ${abandoned.length} work dirs of builds that are gone` : ""}${staleDigests ? `; forgot ${staleDigests} file digests` : ""}\n`,
  );
  return EXIT.ok;
}

function age(now: Date, then: Date): string {
  return formatDuration(Math.max(0, now.getTime() - then.getTime())).replace(/\.\d s$/, " s");
}
