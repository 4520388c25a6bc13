/**
 * A release as a PVS vDisk version: build the demo, change its last app, rebuild, then write the
 * rebuild as a differencing VHDX against the first build's vDisk (changed blocks from the layer
 * chain) and ship it to a site that holds the parent, for real (QEMU builds from the test OS ISO).
 *
 * Measured in the same run:
 * - changed blocks: 2 MiB blocks whose bytes differ between the two full vDisks, read by the VHDX
 *   chain reader from the two full captures (independent of what the version writer decided);
 * - shipped: bytes `syncVersionToSite` sent to the site (non-zero pages plus run headers);
 * - the full vDisk of the rebuild: what a site without the parent receives instead (also synced,
 *   to a second site, to show the fallback and its reason).
 *
 * Ends with: RESULT pvs-version shipped_per_changed=<x> shipped_per_full=<y> ...; target x <= 1.05.
 */
import { copyFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { LayerCache } from "../src/cache/layer-cache.ts";
import { captureDifferencingVhdx } from "../src/capture/vhdx-diff-capture.ts";
import { VhdxChain } from "../src/capture/vhdx-reader.ts";
import { computeBlockmap } from "../src/distribute/blockmap.ts";
import { UNLIMITED } from "../src/distribute/token-bucket.ts";
import { indexedFullVdisk, syncVersionToSite, type VersionSource } from "../src/distribute/version-sync.ts";
import type { BuildManifest } from "../src/manifest/model.ts";
import { vhdxOf } from "../src/stores/published-vdisk.ts";
import { createExec } from "../src/util/exec.ts";
import { changeLastApp, demoProject, timedBuild } from "./rebuild.ts";

const TARGET = 1.05;
const PROPERTIES = { description: "bench", writeCacheType: "device-ram-with-overflow-on-disk", writeCacheSizeMiB: 512, recipe: "linux-demo", version: "bench", recipeHash: "0".repeat(64), buildId: "bench" } as const;

function lastLayer(manifest: BuildManifest, layers: LayerCache): string {
  const hash = manifest.steps.filter((s) => s.hash).at(-1)?.hash;
  if (!hash) throw new Error("the build manifest has no plan step with a layer hash");
  return layers.layerPath(hash);
}

/** Blocks whose bytes differ between two full vDisks, each read through the chain reader. */
async function changedBlocks(a: string, b: string, blockSize: number): Promise<number> {
  const [x, y] = [await VhdxChain.open(a), await VhdxChain.open(b)];
  try {
    const bx = Buffer.alloc(blockSize);
    const by = Buffer.alloc(blockSize);
    let changed = 0;
    for (let offset = 0; offset < x.virtualSize; offset += blockSize) {
      const length = Math.min(blockSize, x.virtualSize - offset);
      if (!x.holdsData(offset, length) && !y.holdsData(offset, length)) continue;
      await x.read(bx.subarray(0, length), offset);
      await y.read(by.subarray(0, length), offset);
      if (!bx.subarray(0, length).equals(by.subarray(0, length))) changed++;
    }
    return changed;
  } finally {
    await x.close();
    await y.close();
  }
}

export async function main(): Promise<number> {
  const { dir, env } = await demoProject();
  const exec = createExec();
  try {
    const layers = new LayerCache(join(env.REBAKE_CACHE_DIR!, "layers"));
    const first = await timedBuild(dir, env, "out-1", []);
    console.log(`first build: ${(first.ms / 1000).toFixed(1)} s`);
    await changeLastApp(dir, 1);
    const second = await timedBuild(dir, env, "out-2", []);
    console.log(`rebuild after changing the last app: ${(second.ms / 1000).toFixed(1)} s`);
    const parentPath = join(dir, "out-1", vhdxOf(first.manifest)!.path);
    const fullPath = join(dir, "out-2", vhdxOf(second.manifest)!.path);

    const version = await captureDifferencingVhdx(
      { path: lastLayer(second.manifest, layers) },
      { path: parentPath, relativePath: "linux-demo.vhdx" },
      join(dir, "linux-demo.1.avhdx"),
      { exec, changes: { kind: "layers", previous: { path: lastLayer(first.manifest, layers) } } },
    );
    console.log(`version: ${version.size} bytes, ${version.fullBlocks} full + ${version.partialBlocks} partial blocks of ${version.candidateBlocks} candidates (${version.method}: ${version.methodReason}); ${version.changedBytes} bytes of changed sectors`);
    const changed = await changedBlocks(parentPath, fullPath, version.blockSize);
    const changedBytes = changed * version.blockSize;
    const full = await computeBlockmap(fullPath);
    const source: VersionSource = {
      path: version.path,
      file: "linux-demo.1.avhdx",
      sha256: version.sha256,
      size: version.size,
      parentFile: "linux-demo.vhdx",
      parentLinkage: version.parentLinkage,
      parentSha256: vhdxOf(first.manifest)!.sha256,
      full: indexedFullVdisk({ path: fullPath, vdisk: "linux-demo-2", family: "linux-demo", blockmap: full, properties: PROPERTIES }),
    };
    const withParent = join(dir, "site-with-parent");
    const without = join(dir, "site-without-parent");
    await mkdir(withParent);
    await mkdir(without);
    await copyFile(parentPath, join(withParent, "linux-demo.vhdx"));
    const shipped = await syncVersionToSite({ name: "with-parent", location: withParent }, source, { throttle: UNLIMITED });
    const fallback = await syncVersionToSite({ name: "without-parent", location: without }, source, { throttle: UNLIMITED });
    for (const r of [shipped, fallback]) console.log(`site ${r.site}: ${r.status}, sent ${r.sentBytes} bytes (${r.reason})${r.error ? `: ${r.error.message}` : ""}`);
    if (shipped.status !== "version") throw new Error(`the site with the parent did not get the version: ${shipped.reason}`);
    const perChanged = changedBytes > 0 ? shipped.sentBytes / changedBytes : Number.POSITIVE_INFINITY;
    const perFull = shipped.sentBytes / full.size;
    console.log(`changed blocks: ${changed} x ${version.blockSize} = ${changedBytes} bytes; full vDisk ${full.size} bytes`);
    console.log(`shipped/changed blocks ${perChanged.toFixed(3)} (target <= ${TARGET}); shipped/full vDisk ${perFull.toFixed(4)}`);
    console.log(
      `RESULT pvs-version shipped_per_changed=${perChanged.toFixed(3)} shipped_per_full=${perFull.toFixed(4)} shipped_bytes=${shipped.sentBytes} changed_block_bytes=${changedBytes} changed_sector_bytes=${version.changedBytes} version_bytes=${version.size} full_bytes=${full.size} fallback_sent_bytes=${fallback.sentBytes} method=${version.method}`,
    );
    return perChanged <= TARGET ? 0 : 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
