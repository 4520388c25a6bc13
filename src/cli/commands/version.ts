/**
 * `rebake version <manifest> --parent <manifest>`: writes a PVS build as a vDisk version of an
 * earlier build: a differencing VHDX (`<vdisk>.<n>.avhdx`) beside the build's vDisk, holding only
 * the sectors that differ, and `version.json`, which `rebake sync` ships instead of the full vDisk.
 */
import { isAbsolute, join, dirname, relative } from "node:path";
import { access } from "node:fs/promises";
import { cacheDirs } from "../../cache/cache-dir.ts";
import { LayerCache } from "../../cache/layer-cache.ts";
import { formatSize } from "../../cache/units.ts";
import { captureDifferencingVhdx, type ChangeSource } from "../../capture/vhdx-diff-capture.ts";
import { readVersionRecord, versionFileName, writeVersionRecord, VERSION_RECORD_FORMAT } from "../../distribute/version-record.ts";
import type { BuildManifest } from "../../manifest/model.ts";
import { readManifest } from "../../manifest/write-manifest.ts";
import { publishedVdiskName, vhdxOf } from "../../stores/published-vdisk.ts";
import { createExec } from "../../util/exec.ts";
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";

export const HELP = `usage: rebake version <manifest> --parent <manifest> [--cache-dir DIR] [--json]

Writes the build of <manifest> as the next PVS vDisk version of the build of --parent: a
differencing VHDX <vdisk>.<n>.avhdx beside the build's vDisk, chained to the parent's vDisk (or
to the parent's own version), with only the sectors that differ. The changed blocks come from the
layer cache when both builds are of the same recipe and their layers are still cached, from a
comparison of the whole disk otherwise; the output says which and why. rebake sync then ships the
version to sites that hold its parent and the full vDisk to the others.

options:
  --parent MANIFEST   the earlier build (its vDisk, or its version, is the parent)
  --cache-dir DIR     the layer cache (default: $REBAKE_CACHE_DIR or .rebake/cache)
  --json              machine-readable result
  --help              show this help
`;

function lastLayer(manifest: BuildManifest, layers: LayerCache): string | undefined {
  const hash = manifest.steps.filter((s) => s.hash).at(-1)?.hash;
  return hash ? layers.layerPath(hash) : undefined;
}

const exists = (path: string) => access(path).then(() => true, () => false);

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { parent: { type: "string" }, "cache-dir": { type: "string" } }, 1);
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const [target] = positionals;
  if (!target || !values.parent) throw new UsageError(`one manifest and --parent are required`);
  const at = (p: string) => (isAbsolute(p) ? p : join(io.cwd, p));
  const manifestPath = at(target);
  const parentManifestPath = at(values.parent);
  const [manifest, parentManifest] = [await readManifest(manifestPath), await readManifest(parentManifestPath)];
  const vhdx = vhdxOf(manifest);
  const parentVhdx = vhdxOf(parentManifest);
  if (!vhdx || !parentVhdx) throw new UsageError(`both builds must be PVS builds with a vDisk; ${vhdx ? values.parent : target} has none`);

  // The parent of version n is version n - 1 when the parent build is itself a version.
  const parentRecord = await readVersionRecord(parentManifestPath);
  const vdisk = parentRecord?.vdisk ?? publishedVdiskName(parentManifest, parentVhdx);
  const number = (parentRecord?.number ?? 0) + 1;
  const parentDir = dirname(parentManifestPath);
  const parentPath = parentRecord ? join(parentDir, parentRecord.path) : join(parentDir, parentVhdx.path);
  const parentFile = parentRecord ? versionFileName(vdisk, parentRecord.number) : `${vdisk}.vhdx`;
  const parentSha256 = parentRecord?.sha256 ?? parentVhdx.sha256;

  const layers = new LayerCache(cacheDirs(io.cwd, io.env, values["cache-dir"]).layers);
  const current = lastLayer(manifest, layers);
  const previous = lastLayer(parentManifest, layers);
  const sameRecipe = manifest.recipe.name === parentManifest.recipe.name;
  const canUseLayers = sameRecipe && current !== undefined && previous !== undefined && (await exists(current)) && (await exists(previous));
  const changes: ChangeSource = canUseLayers ? { kind: "layers", previous: { path: previous } } : { kind: "content" };
  const source = { path: canUseLayers ? current : join(dirname(manifestPath), vhdx.path) };
  const fileName = versionFileName(vdisk, number);
  const outPath = join(dirname(manifestPath), fileName);
  const result = await captureDifferencingVhdx(source, { path: parentPath, relativePath: parentFile }, outPath, { exec: createExec(), signal: io.signal, changes });
  const whyContent = !sameRecipe ? `the builds are of different recipes (${parentManifest.recipe.name}, ${manifest.recipe.name})` : canUseLayers ? result.methodReason : "the builds' layers are no longer in the layer cache";
  const record = {
    format: VERSION_RECORD_FORMAT,
    vdisk,
    number,
    path: fileName,
    sha256: result.sha256,
    size: result.size,
    parentFile,
    parentPath: relative(dirname(manifestPath), parentPath),
    parentSha256,
    parentLinkage: result.parentLinkage,
    method: result.method,
    methodReason: result.method === "layers" ? result.methodReason : whyContent,
  } as const;
  await writeVersionRecord(manifestPath, record);
  if (values.json) io.stdout(`${JSON.stringify({ ...record, changedBytes: result.changedBytes, fullBlocks: result.fullBlocks, partialBlocks: result.partialBlocks }, null, 2)}\n`);
  else {
    io.stdout(`${fileName}: version ${number} of ${vdisk}, ${formatSize(result.size)} (${formatSize(result.changedBytes)} of changed sectors in ${result.fullBlocks} full and ${result.partialBlocks} partial blocks), parent ${parentFile}\n`);
    io.stdout(`changed blocks from ${record.method === "layers" ? "the layer chain" : "a content comparison"}: ${record.methodReason}\n`);
  }
  return EXIT.ok;
}
