/** Helpers for distribution tests: temp dirs, vDisk-like files with chosen changed blocks, sources. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { computeBlockmap } from "../../src/distribute/blockmap.ts";
import type { SyncSource } from "../../src/distribute/model.ts";
import { PROPERTIES } from "../stores/fixtures.ts";

/** Small blocks keep the tests fast; the logic does not depend on the size. */
export const TEST_BLOCK = 64 * 1024;

export interface Workspace {
  readonly root: string;
  dir(name: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function workspace(): Promise<Workspace> {
  const root = await mkdtemp(join(tmpdir(), "rebake-sync-"));
  return {
    root,
    async dir(name) {
      const path = join(root, name);
      await mkdir(path, { recursive: true });
      return path;
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Deterministic content: block `i` is filled from `seed(i)`, so versions differ in chosen blocks. */
export function content(blocks: number, seed: (block: number) => number, tail = 0): Buffer {
  const data = Buffer.alloc(blocks * TEST_BLOCK + tail);
  for (let b = 0; b * TEST_BLOCK < data.length; b++) {
    // A small PRNG per block: equal seeds give equal blocks wherever they sit, different seeds differ.
    let x = (seed(b) * 2654435761 + 1) >>> 0 || 1;
    const end = Math.min(data.length, (b + 1) * TEST_BLOCK);
    for (let i = b * TEST_BLOCK; i < end; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      data[i] = x & 0xff;
    }
  }
  return data;
}

export async function sourceOf(dir: string, version: string, data: Buffer): Promise<SyncSource> {
  const path = join(dir, `disk-${version}.vhdx`);
  await writeFile(path, data);
  const blockmap = await computeBlockmap(path, { blockSize: TEST_BLOCK });
  return { path, vdisk: `ws2022-${version}`, family: "ws2022", blockmap, properties: { ...PROPERTIES, version } };
}

/** A PVS stack file pinning ws2022-pvs `version`, with one site per store location. */
export function pvsStackYaml(version: string, locations: readonly string[]): string {
  return [
    "config:",
    "  rebake:target: pvs",
    "  rebake:image:",
    "    recipe: ws2022-pvs",
    `    version: ${version}`,
    "  rebake:hypervisor:",
    "    kind: qemu",
    "  rebake:pvs:",
    "    server: pvs01.example",
    "    executor:",
    "      kind: local",
    "    accessMode: production",
    "    sites:",
    ...locations.flatMap((location, i) => [`      - name: Site${i}`, "        server: pvs01.example", "        collection: C", "        store:", `          name: Store${i}`, `          location: ${location}`]),
    "",
  ].join("\n");
}
