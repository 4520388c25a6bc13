import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LayerCache } from "../../src/cache/layer-cache.ts";
import { CacheFullError } from "../../src/cache/errors.ts";

const h = (n: number) => String(n).repeat(64).slice(0, 64);

async function withCache(body: (cache: LayerCache, dir: string) => Promise<void>, options: ConstructorParameters<typeof LayerCache>[1] = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "rebake-layers-"));
  try {
    const cache = new LayerCache(dir, options);
    await cache.ensureDir();
    await body(cache, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function commitChain(cache: LayerCache, hashes: readonly string[]): Promise<void> {
  let parent: string | null = null;
  for (const hash of hashes) {
    await writeFile(cache.layerPath(hash), "layer");
    await cache.commit(hash, { stepId: `step-${hash.slice(0, 1)}`, parent });
    parent = hash;
  }
}

const prefixes: readonly { name: string; committed: string[]; plan: string[]; expected: number }[] = [
  { name: "nothing cached", committed: [], plan: [h(1), h(2), h(3)], expected: 0 },
  { name: "the first two steps cached", committed: [h(1), h(2)], plan: [h(1), h(2), h(3)], expected: 2 },
  { name: "every step cached", committed: [h(1), h(2), h(3)], plan: [h(1), h(2), h(3)], expected: 3 },
  { name: "a changed first step invalidates everything", committed: [h(1), h(2)], plan: [h(4), h(2)], expected: 0 },
];

for (const c of prefixes) {
  test(`the longest cached prefix: ${c.name}`, () =>
    withCache(async (cache) => {
      await commitChain(cache, c.committed);
      assert.equal(await cache.longestPrefix(c.plan), c.expected);
    }));
}

test("a layer file without a commit marker does not count and is discarded", () =>
  withCache(async (cache, dir) => {
    await commitChain(cache, [h(1)]);
    await writeFile(cache.layerPath(h(2)), "half written");
    assert.equal(await cache.longestPrefix([h(1), h(2)]), 1);
    assert.equal((await cache.uncommitted()).length, 1);
    await cache.discardUncommitted(h(2));
    await cache.discardUncommitted(h(1));
    assert.deepEqual((await readdir(dir)).sort(), [`${h(1)}.json`, `${h(1)}.qcow2`]);
  }));

test("a marker whose layer file is gone does not count", () =>
  withCache(async (cache) => {
    await commitChain(cache, [h(1)]);
    await rm(cache.layerPath(h(1)));
    assert.equal(await cache.longestPrefix([h(1)]), 0);
  }));

test("the commit marker records step, creation time, size and parent", () =>
  withCache(
    async (cache) => {
      await commitChain(cache, [h(1), h(2)]);
      const second = (await cache.list()).find((l) => l.hash === h(2));
      assert.deepEqual(second, { hash: h(2), stepId: "step-2", created: "2026-01-02T03:04:05.000Z", size: 5, parent: h(1), diskBytes: 5, stateBytes: 0 });
    },
    { clock: () => new Date("2026-01-02T03:04:05Z") },
  ));

test("a full disk while committing names the cache dir and the fix and commits nothing", () =>
  withCache(
    async (cache, dir) => {
      await writeFile(cache.layerPath(h(1)), "layer");
      const error = await cache.commit(h(1), { stepId: "05-app-7zip", parent: null }).catch((e: unknown) => e);
      assert.ok(error instanceof CacheFullError);
      assert.ok(error.message.includes(dir) && error.message.includes("05-app-7zip") && error.message.includes("rebake cache prune"), error.message);
      assert.equal(await cache.committed(h(1)), undefined);
      assert.deepEqual(await readdir(dir), [`${h(1)}.qcow2`], "no marker, no temp marker");
    },
    {
      writeFile: (async (path: string) => {
        await writeFile(path, "");
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      }) as unknown as typeof import("node:fs/promises").writeFile,
    },
  ));

const STATE = "saved vm state";

test("a VM state beside the layer is committed with it: listed with size and sha256, counted in the size", () =>
  withCache(async (cache) => {
    await writeFile(cache.companionPath(h(1), "state"), STATE);
    await commitChain(cache, [h(1)]);
    const [layer] = await cache.list();
    assert.deepEqual(layer?.state, { file: `${h(1)}.vmstate`, size: STATE.length, sha256: createHash("sha256").update(STATE).digest("hex") });
    assert.equal(layer?.size, "layer".length + STATE.length);
    assert.deepEqual((await cache.companions(h(1))).state, { path: cache.companionPath(h(1), "state"), sha256: layer?.state?.sha256 }, "with the digest its loader checks");
  }));

test("a VM state of the listed size is not read here: its loader checks the sha256 while it loads", () =>
  withCache(async (cache) => {
    await writeFile(cache.companionPath(h(1), "state"), STATE);
    await commitChain(cache, [h(1)]);
    await writeFile(cache.companionPath(h(1), "state"), "other bytes!!!");
    const listed = createHash("sha256").update(STATE).digest("hex");
    assert.deepEqual((await cache.companions(h(1))).state, { path: cache.companionPath(h(1), "state"), sha256: listed });
  }));

const unusableStates: readonly { name: string; damage: (file: string) => Promise<void> }[] = [
  { name: "truncated", damage: (file) => writeFile(file, "saved") },
  { name: "grown", damage: (file) => writeFile(file, `${STATE} and more`) },
  { name: "missing", damage: (file) => rm(file) },
];

for (const c of unusableStates) {
  test(`no resume from a state that does not match its marker, and it is removed: ${c.name}`, () =>
    withCache(async (cache) => {
      await writeFile(cache.companionPath(h(1), "state"), STATE);
      await commitChain(cache, [h(1)]);
      await c.damage(cache.companionPath(h(1), "state"));
      assert.equal((await cache.companions(h(1))).state, undefined);
      assert.equal(existsSync(cache.companionPath(h(1), "state")), false, "removed, so no later build tries it");
      assert.ok(await cache.committed(h(1)), "the layer itself still counts");
    }));
}

test("a layer without a saved state has none to resume from", () =>
  withCache(async (cache) => {
    await commitChain(cache, [h(1)]);
    assert.equal((await cache.list())[0]?.state, undefined);
    assert.equal((await cache.companions(h(1))).state, undefined);
  }));

test("the VM state goes with its layer: removed with it, discarded when uncommitted, an orphan otherwise", () =>
  withCache(async (cache, dir) => {
    await writeFile(cache.companionPath(h(1), "state"), STATE);
    await commitChain(cache, [h(1)]);
    await writeFile(cache.layerPath(h(2)), "half written");
    await writeFile(cache.companionPath(h(2), "state"), STATE);
    await writeFile(`${cache.companionPath(h(3), "state")}.1a2b3c4d.partial`, "half saved");
    assert.deepEqual((await cache.uncommitted()).map((o) => o.path).sort(), [cache.layerPath(h(2)), cache.companionPath(h(2), "state"), `${cache.companionPath(h(3), "state")}.1a2b3c4d.partial`].sort());
    await cache.discardUncommitted(h(2));
    await cache.remove(h(1));
    assert.deepEqual(await readdir(dir), [`${h(3)}.vmstate.1a2b3c4d.partial`]);
  }));

const VARS = "uefi variable store";

test("a UEFI variable store beside the layer is a companion too: listed, counted, checked, removed with its layer", () =>
  withCache(async (cache, dir) => {
    await writeFile(cache.companionPath(h(1), "state"), STATE);
    await writeFile(cache.companionPath(h(1), "firmwareVars"), VARS);
    await commitChain(cache, [h(1)]);
    const [layer] = await cache.list();
    assert.deepEqual(layer?.firmwareVars, { file: `${h(1)}.uefi-vars`, size: VARS.length, sha256: createHash("sha256").update(VARS).digest("hex") });
    assert.equal(layer?.size, "layer".length + STATE.length + VARS.length);
    assert.equal((await cache.companions(h(1))).firmwareVars, cache.companionPath(h(1), "firmwareVars"));

    await writeFile(cache.companionPath(h(2), "firmwareVars"), VARS);
    assert.deepEqual((await cache.uncommitted()).map((o) => o.path), [cache.companionPath(h(2), "firmwareVars")], "an orphan without its layer");

    // Same size: small companions are checked by their sha256 here.
    await writeFile(cache.companionPath(h(1), "firmwareVars"), VARS.toUpperCase());
    assert.equal((await cache.companions(h(1))).firmwareVars, undefined);
    assert.equal(existsSync(cache.companionPath(h(1), "firmwareVars")), false, "removed, so no later build starts from it");
    assert.equal((await cache.companions(h(1))).state?.path, cache.companionPath(h(1), "state"), "the other companion is untouched");

    await cache.discardUncommitted(h(2));
    await cache.remove(h(1));
    assert.deepEqual(await readdir(dir), []);
  }));

test("a TPM state beside the layer is committed with it and offered to the VMs built on it", () =>
  withCache(async (cache) => {
    await writeFile(cache.companionPath(h(1), "tpmState"), "tpm permanent state");
    await commitChain(cache, [h(1)]);
    assert.equal((await cache.list())[0]?.tpmState?.file, `${h(1)}.tpm-state`);
    assert.equal((await cache.companions(h(1))).tpmState, cache.companionPath(h(1), "tpmState"));
    assert.equal((await cache.companions(h(1))).firmwareVars, undefined, "no UEFI variables were saved");
  }));
