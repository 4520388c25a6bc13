/**
 * rebake sync against real Samba shares on loopback (smbd started per test file with a temp
 * config and a free port) beside local directories.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { syncAll } from "../../src/distribute/sync.ts";
import { journalFile, partialFile } from "../../src/distribute/sync-site.ts";
import { content, sourceOf, workspace, type Workspace } from "../distribute/fixtures.ts";
import { freePort } from "../../src/util/local-port.ts";
import { startSamba, type SambaServer } from "../stores/samba-server.ts";

let servers: SambaServer[] = [];
let ws: Workspace;

before(async () => {
  servers = await Promise.all([startSamba(), startSamba()]);
  ws = await workspace();
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await ws.cleanup();
});

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

test("sync to two Samba shares and a directory; a rerun skips all three from their sidecars", async () => {
  const data = content(50, (b) => b, 77);
  const source = await sourceOf(await ws.dir("src1"), "2.0.0", data);
  const sites = [
    { name: "smb-a", location: servers[0]!.url },
    { name: "smb-b", location: servers[1]!.url },
    { name: "dir", location: await ws.dir("dir1") },
  ];
  const first = await syncAll(source, sites, { concurrency: 3 });
  assert.deepEqual(first.map((r) => r.status), ["full", "full", "full"], JSON.stringify(first.map((r) => r.error)));
  for (const server of servers) {
    assert.equal(sha(await readFile(join(server.shareDir, "ws2022-2.0.0.vhdx"))), sha(data));
    assert.deepEqual((await readdir(server.shareDir)).sort(), ["ws2022-2.0.0.blockmap", "ws2022-2.0.0.rebake.ini", "ws2022-2.0.0.vhdx"]);
  }
  const second = await syncAll(source, sites, { concurrency: 3 });
  assert.deepEqual(second.map((r) => [r.status, r.sentBytes]), [["skipped", 0], ["skipped", 0], ["skipped", 0]]);
});

test("a partial left by an interrupted SMB upload is replaced, not resumed (smbclient reput truncates)", async () => {
  const data = content(10, (b) => b + 900);
  const source = await sourceOf(await ws.dir("src3"), "2.2.0", data);
  const share = servers[1]!.shareDir;
  await writeFile(join(share, partialFile(source.vdisk)), Buffer.alloc(5000, 1));
  await writeFile(join(share, journalFile(source.vdisk)), "left by a killed run\n");
  const [result] = await syncAll(source, [{ name: "smb-b", location: servers[1]!.url }]);
  assert.equal(result?.status, "full", JSON.stringify(result?.error));
  assert.equal(result?.sentBytes, data.length);
  assert.equal(sha(await readFile(join(share, "ws2022-2.2.0.vhdx"))), sha(data));
  assert.deepEqual((await readdir(share)).filter((n) => n.startsWith(".")), []);
});

test("an SMB site nobody listens on fails as unreachable; the others finish", async () => {
  const source = await sourceOf(await ws.dir("src4"), "2.3.0", content(8, (b) => b));
  const results = await syncAll(source, [
    { name: "down", location: `smb://127.0.0.1:${await freePort()}/vdisks` },
    { name: "smb-a", location: servers[0]!.url },
  ]);
  assert.equal(results[0]?.status, "failed");
  assert.equal(results[0]?.error?.name, "StoreUnreachableError");
  assert.equal(results[1]?.status, "full");
});
