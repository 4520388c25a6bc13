import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createExec } from "../../src/util/exec.ts";
import { SmbStore } from "../../src/stores/smb-store.ts";
import { publishVdisk, readVdisk, removeVdisk, type VdiskRequest } from "../../src/stores/publish-vdisk.ts";
import { ChecksumMismatchError, StoreUnreachableError, VdiskConflictError, VdiskLockedError } from "../../src/stores/errors.ts";

import { vdiskProvider } from "../../src/publish/providers/vdisk.ts";
import { freePort } from "../../src/util/local-port.ts";
import { startSamba, type SambaServer } from "../stores/samba-server.ts";
import { sourceVhdx, tempDirs, type TempDirs } from "../stores/fixtures.ts";

const MIB = 1024 * 1024;

describe("vDisk publish into a Samba share over smbclient", () => {
  let samba: SambaServer;
  let dirs: TempDirs;
  let request: VdiskRequest;
  const exec = createExec();
  before(async () => {
    samba = await startSamba();
    dirs = await tempDirs();
    request = await sourceVhdx(dirs.source, "ws2022-apps-3.2.0", 2 * MIB + 5);
    await mkdir(join(samba.shareDir, "ws2022"));
  });
  after(async () => {
    await samba?.stop();
    await dirs?.cleanup();
  });
  const url = () => `${samba.url}/ws2022`;
  const listing = async () => (await readdir(join(samba.shareDir, "ws2022"))).sort();

  it("copies, verifies and records the vDisk, then skips it on the rerun", async () => {
    const store = new SmbStore(url(), exec);
    assert.equal((await publishVdisk(store, request)).skipped, false);
    assert.deepEqual(await listing(), ["ws2022-apps-3.2.0.rebake.ini", "ws2022-apps-3.2.0.vhdx"]);
    assert.deepEqual(await readFile(join(samba.shareDir, "ws2022", "ws2022-apps-3.2.0.vhdx")), await readFile(request.source));
    assert.equal((await publishVdisk(store, request)).skipped, true);
    assert.deepEqual(await readVdisk(store, request.name), { sha256: request.sha256, size: request.size });
  });

  it("refuses a different vDisk under the same name, and a vDisk locked by PVS", async () => {
    const store = new SmbStore(url(), exec);
    const other = await sourceVhdx(dirs.source, request.name, MIB, 3);
    await assert.rejects(publishVdisk(store, other), VdiskConflictError);
    await writeFile(join(samba.shareDir, "ws2022", "ws2022-apps-3.2.0.lok"), "");
    await assert.rejects(removeVdisk(store, request.name), VdiskLockedError);
    assert.ok((await listing()).includes("ws2022-apps-3.2.0.vhdx"));
  });

  it("leaves nothing in the share when the copy does not match the checksum", async () => {
    const store = new SmbStore(url(), exec);
    const fresh = await sourceVhdx(dirs.source, "mismatch", MIB, 4);
    await assert.rejects(publishVdisk(store, { ...fresh, sha256: "f".repeat(64) }), ChecksumMismatchError);
    assert.equal((await listing()).some((name) => name.includes("mismatch")), false);
  });

  it("reports a store nobody listens on as unreachable", async () => {
    const store = new SmbStore(`smb://127.0.0.1:${await freePort()}/vdisks`, exec);
    await assert.rejects(publishVdisk(store, request), (error: unknown) => error instanceof StoreUnreachableError && /NT_STATUS_CONNECTION_REFUSED/.test(error.message));
  });

  it("runs the vDisk dynamic provider's create, diff and delete against the share", async () => {
    const inputs = { store: url(), name: "provider-disk", source: "", sha256: "", size: 0, properties: request.properties };
    const disk = await sourceVhdx(dirs.source, "provider-disk", MIB, 5);
    const created = await vdiskProvider.create({ ...inputs, source: disk.source, sha256: disk.sha256, size: disk.size });
    assert.equal(created.id, `${url()}/provider-disk.vhdx`);
    assert.ok((await listing()).includes("provider-disk.vhdx"));
    await vdiskProvider.delete(created.id, created.outs);
    assert.equal((await listing()).includes("provider-disk.vhdx"), false);
  });
});
