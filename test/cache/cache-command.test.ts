import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile, mkdir, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/cli/commands/cache.ts";
import { LayerCache } from "../../src/cache/layer-cache.ts";
import { rememberedDigests } from "../../src/cache/file-digests.ts";
import type { CliIo } from "../../src/cli/io.ts";

const h = (n: number) => String(n).repeat(64);

async function withCache(body: (dir: string, io: CliIo & { out: () => string }) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "rebake-cache-cmd-"));
  let out = "";
  const io = { stdout: (t: string) => void (out += t), stderr: () => undefined, cwd: dir, env: {}, isTty: false, signal: new AbortController().signal, out: () => out };
  try {
    // Chain 1 <- 2 (old), 1 <- 3 (new), one download, one orphan layer of a killed build.
    let clock = new Date("2026-01-01T00:00:00Z");
    const layers = new LayerCache(join(dir, ".rebake/cache/layers"), { clock: () => clock });
    await layers.ensureDir();
    for (const [hash, parent, when] of [[h(1), null, "2026-01-01"], [h(2), h(1), "2026-01-02"], [h(3), h(1), "2026-02-20"]] as const) {
      clock = new Date(`${when}T00:00:00Z`);
      await writeFile(layers.layerPath(hash), "x".repeat(1000));
      await layers.commit(hash, { stepId: `step-${hash[0]}`, parent });
    }
    await writeFile(layers.layerPath(h(4)), "orphan");
    await utimes(layers.layerPath(h(4)), new Date("2026-01-01"), new Date("2026-01-01"));
    await mkdir(join(dir, ".rebake/cache/downloads"));
    const download = join(dir, ".rebake/cache/downloads", "a".repeat(64));
    await writeFile(download, "iso");
    await utimes(download, new Date("2026-01-05"), new Date("2026-01-05"));
    await body(dir, io);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const now = new Date("2026-03-01T00:00:00Z");

test("cache ls --json lists committed layers with step, size and parent, and downloads", () =>
  withCache(async (_dir, io) => {
    assert.equal(await run(["ls", "--json"], io, now), 0);
    const listed = JSON.parse(io.out()) as { layers: { hash: string; stepId: string; size: number; parent: string | null }[]; downloads: unknown[] };
    assert.deepEqual(listed.layers.map((l) => [l.stepId, l.size, l.parent]).sort(), [["step-1", 1000, null], ["step-2", 1000, h(1)], ["step-3", 1000, h(1)]]);
    assert.equal(listed.downloads.length, 1);
  }));

test("cache ls reports each step's bytes: the disk layer and the saved VM state apart", () =>
  withCache(async (dir, io) => {
    const layers = new LayerCache(join(dir, ".rebake/cache/layers"));
    await writeFile(layers.companionPath(h(5), "state"), "s".repeat(3000));
    await writeFile(layers.layerPath(h(5)), "x".repeat(2000));
    await layers.commit(h(5), { stepId: "step-5", parent: h(3) });
    assert.equal(await run(["ls", "--json"], io, now), 0);
    const listed = JSON.parse(io.out()) as { layers: { stepId: string; size: number; diskBytes: number; stateBytes: number }[] };
    assert.deepEqual(listed.layers.find((l) => l.stepId === "step-5"), { ...listed.layers.find((l) => l.stepId === "step-5"), size: 5000, diskBytes: 2000, stateBytes: 3000 });
    let text = "";
    await run(["ls"], { ...io, stdout: (t: string) => void (text += t) }, now);
    assert.match(text, /5555555555\d\d\s+2\.0K\s+\+\s+2\.9K\s+=\s+4\.9K .*step-5/);
  }));

test("cache prune --older-than keeps the newest chain with its shared base and removes orphans", () =>
  withCache(async (dir, io) => {
    assert.equal(await run(["prune", "--older-than", "30d"], io, now), 0);
    const left = (await readdir(join(dir, ".rebake/cache/layers"))).sort();
    assert.deepEqual(left, [`${h(1)}.json`, `${h(1)}.qcow2`, `${h(3)}.json`, `${h(3)}.qcow2`]);
    assert.match(io.out(), /removed 3 entries \(1009B\), kept 2/);
  }));

test("cache prune needs a limit and says which", () =>
  withCache(async (_dir, io) => {
    await assert.rejects(run(["prune"], io, now), /prune needs --max-size, --older-than or --all/);
  }));

test("cache prune forgets file digests whose file is gone or changed; --all forgets every one", () =>
  withCache(async (dir, io) => {
    const digestsDir = join(dir, ".rebake/cache/digests");
    const remember = rememberedDigests(digestsDir, async () => "0".repeat(64), { now: () => Date.now() + 60_000 });
    const [kept, changed, gone] = ["kept.iso", "changed.iso", "gone.iso"].map((name) => join(dir, name));
    for (const file of [kept!, changed!, gone!]) {
      await writeFile(file, "media");
      await remember(file);
    }
    await new Promise((resolve) => setTimeout(resolve, 20)); // past the file system's timestamp granularity
    await writeFile(changed!, "other");
    await rm(gone!);
    assert.equal(await run(["prune", "--older-than", "30d", "--json"], io, now), 0);
    assert.equal((JSON.parse(io.out()) as { digests: number }).digests, 2);
    assert.equal((await readdir(digestsDir)).length, 1, "the unchanged file's digest stays");
    assert.equal(await run(["prune", "--all"], io, now), 0);
    assert.deepEqual(await readdir(digestsDir), []);
    assert.match(io.out(), /forgot 1 file digests/);
  }));
