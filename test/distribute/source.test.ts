import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { indexSyncSource, locateSyncSource, sitesOf, SyncSecretError, SyncSourceError, type ResolveOptions } from "../../src/distribute/source.ts";
import type { StackConfig } from "../../src/stacks/model.ts";
import { content, workspace } from "./fixtures.ts";

/** Finds the vDisk and indexes it, as `rebake sync` does for a full-vDisk sync. */
const resolveSyncSource = async (root: string, config: StackConfig, options: ResolveOptions = {}) => indexSyncSource(await locateSyncSource(root, config, options), options);

function stack(manifest: string): StackConfig {
  return {
    stack: "t", file: "stacks/Pulumi.t.yaml", target: "pvs", image: { recipe: "ws2022-pvs", version: "1.0.0", manifest }, hypervisor: { kind: "qemu" },
    pvs: {
      server: "pvs01", port: 54321, executor: { kind: "local" }, accessMode: "production",
      sites: [
        { name: "HQ", server: "pvs01", collection: "C", store: { name: "S1", location: "/mnt/hq" } },
        { name: "Lyon", server: "pvs02", collection: "C", store: { name: "S2", location: "smb://lyon/vDisks", username: "CORP\\svc", password: "env:PVS_PW" } },
      ],
    },
  };
}

async function built(dir: string, data: Buffer, recordedSha?: string): Promise<string> {
  await writeFile(join(dir, "ws2022-apps.vhdx"), data);
  await writeFile(join(dir, "manifest.json"), JSON.stringify({
    manifestVersion: 1, buildId: "b7", target: "pvs",
    recipe: { name: "ws2022-pvs", version: "1.0.0", file: join(dir, "none.yaml"), hash: "c".repeat(64) },
    outputs: [{ kind: "vhdx", path: "ws2022-apps.vhdx", size: data.length, sha256: recordedSha ?? createHash("sha256").update(data).digest("hex") }],
  }));
  return join(dir, "manifest.json");
}

test("the source is the manifest's vDisk under the publish program's name; its blockmap is saved beside it", async () => {
  const ws = await workspace();
  try {
    const manifest = await built(ws.root, content(3, (b) => b));
    const source = await resolveSyncSource(ws.root, stack(manifest));
    assert.equal(source.vdisk, "ws2022-apps-1.0.0");
    assert.equal(source.family, "ws2022-apps");
    assert.equal(source.properties.buildId, "b7");
    assert.match(await readFile(join(ws.root, "ws2022-apps.blockmap"), "utf8"), /rebake-blockmap\/1/);
  } finally {
    await ws.cleanup();
  }
});

test("a vDisk that no longer matches its manifest is refused", async () => {
  const ws = await workspace();
  try {
    const manifest = await built(ws.root, content(2, (b) => b), "0".repeat(64));
    await assert.rejects(resolveSyncSource(ws.root, stack(manifest)), (e: unknown) => e instanceof SyncSourceError && /changed since the build/.test(e.message));
  } finally {
    await ws.cleanup();
  }
});

test("--from takes the vDisk from an HQ store directory", async () => {
  const ws = await workspace();
  try {
    const data = content(2, (b) => b);
    const manifest = await built(ws.root, data);
    const hq = await ws.dir("hq");
    await assert.rejects(resolveSyncSource(ws.root, stack(manifest), { from: hq }), /copy ws2022-apps-1\.0\.0\.vhdx into/);
    await writeFile(join(hq, "ws2022-apps-1.0.0.vhdx"), data);
    assert.equal((await resolveSyncSource(ws.root, stack(manifest), { from: hq })).path, join(hq, "ws2022-apps-1.0.0.vhdx"));
  } finally {
    await ws.cleanup();
  }
});

test("site passwords come from env: references; a missing variable is named", () => {
  assert.deepEqual(sitesOf(stack("m"), { PVS_PW: "s3cret" })[1], { name: "Lyon", location: "smb://lyon/vDisks", credentials: { username: "CORP\\svc", password: "s3cret" } });
  assert.throws(() => sitesOf(stack("m"), {}), (e: unknown) => e instanceof SyncSecretError && /export PVS_PW/.test(e.message));
});

test("pulumi: password references are looked up; a missing key says how to set it", () => {
  const config = stack("m");
  const withPulumi: StackConfig = { ...config, pvs: { ...config.pvs!, sites: config.pvs!.sites.map((s) => (s.store.password ? { ...s, store: { ...s.store, password: "pulumi:storePassword" } } : s)) } };
  assert.equal(sitesOf(withPulumi, {}, (key) => (key === "storePassword" ? "from-pulumi" : undefined))[1]?.credentials?.password, "from-pulumi");
  assert.throws(() => sitesOf(withPulumi, {}), /pulumi config set storePassword --secret --stack t/);
});
