import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { FilesystemStore } from "../../src/stores/filesystem-store.ts";
import { publishVdisk, readVdisk, removeVdisk, type VdiskRequest } from "../../src/stores/publish-vdisk.ts";
import { ChecksumMismatchError, StoreFullError, StoreUnreachableError, VdiskBusyError, VdiskConflictError, VdiskLockedError } from "../../src/stores/errors.ts";
import type { VdiskStore } from "../../src/stores/store.ts";
import { sourceVhdx, tempDirs, type TempDirs } from "./fixtures.ts";

const run = promisify(execFile);
const MIB = 1024 * 1024;

/** A store that counts full rereads, to prove the sidecar spares them. */
function counting(store: VdiskStore): VdiskStore & { rereads: number } {
  const wrapped = Object.create(store) as VdiskStore & { rereads: number };
  wrapped.rereads = 0;
  wrapped.sha256 = async (name) => {
    wrapped.rereads++;
    return store.sha256(name);
  };
  return wrapped;
}

describe("vDisk publish into a filesystem store", () => {
  let dirs: TempDirs;
  let request: VdiskRequest;
  before(async () => {
    dirs = await tempDirs();
    request = await sourceVhdx(dirs.source, "ws2022-apps-3.2.0", 3 * MIB + 17);
  });
  after(() => dirs.cleanup());
  const fresh = async () => {
    await rm(dirs.store, { recursive: true, force: true });
    await mkdir(dirs.store);
    return new FilesystemStore(dirs.store);
  };

  it("copies the VHDX, verifies it and writes the sidecar, leaving no temp or lock file", async () => {
    const store = await fresh();
    const published = await publishVdisk(store, request);
    assert.equal(published.skipped, false);
    assert.equal(published.sha256, request.sha256);
    assert.deepEqual((await readdir(dirs.store)).sort(), ["ws2022-apps-3.2.0.rebake.ini", "ws2022-apps-3.2.0.vhdx"]);
    assert.deepEqual(await readFile(join(dirs.store, "ws2022-apps-3.2.0.vhdx")), await readFile(request.source));
    const sidecar = await readFile(join(dirs.store, "ws2022-apps-3.2.0.rebake.ini"), "utf8");
    assert.match(sidecar, new RegExp(`Sha256=${request.sha256}`));
    assert.match(sidecar, /WriteCacheType=device-ram-with-overflow-on-disk/);
    assert.deepEqual(await readVdisk(store, request.name), { sha256: request.sha256, size: request.size });
  });

  it("skips a vDisk already there with the same checksum, without reading it back", async () => {
    await publishVdisk(await fresh(), request);
    const before = (await stat(join(dirs.store, "ws2022-apps-3.2.0.vhdx"))).mtimeMs;
    const store = counting(new FilesystemStore(dirs.store));
    const again = await publishVdisk(store, request);
    assert.equal(again.skipped, true);
    assert.equal(store.rereads, 0);
    assert.equal((await stat(join(dirs.store, "ws2022-apps-3.2.0.vhdx"))).mtimeMs, before);
  });

  it("refuses to overwrite a vDisk of the same name with a different checksum", async () => {
    const store = await fresh();
    await publishVdisk(store, request);
    const other = await sourceVhdx(dirs.source, request.name, MIB, 2);
    await assert.rejects(publishVdisk(store, other), (error: unknown) => error instanceof VdiskConflictError && /new vDisk name/.test(error.message) && error.message.includes(request.sha256));
    assert.deepEqual(await readFile(join(dirs.store, "ws2022-apps-3.2.0.vhdx")), await readFile(request.source));
  });

  it("refuses a vDisk locked by PVS (.lok) and writes nothing", async () => {
    const store = await fresh();
    await writeFile(join(dirs.store, "ws2022-apps-3.2.0.lok"), "");
    await assert.rejects(publishVdisk(store, request), (error: unknown) => error instanceof VdiskLockedError && /Manage Locks/.test(error.message));
    assert.deepEqual(await readdir(dirs.store), ["ws2022-apps-3.2.0.lok"]);
  });

  it("leaves nothing behind when the copy does not match the manifest checksum", async () => {
    const store = await fresh();
    await assert.rejects(publishVdisk(store, { ...request, sha256: "0".repeat(64) }), (error: unknown) => error instanceof ChecksumMismatchError && error.message.includes(request.sha256));
    assert.deepEqual(await readdir(dirs.store), []);
  });

  it("leaves no file under the final name when the copy is interrupted, and a rerun restarts cleanly", async () => {
    const store = await fresh();
    const controller = new AbortController();
    const interrupted = Object.create(store) as VdiskStore;
    interrupted.upload = async (local, temp) => {
      // A killed process leaves half a temp file and never cleans up.
      await writeFile(join(dirs.store, temp), (await readFile(local)).subarray(0, MIB));
      controller.abort(new Error("interrupted"));
      controller.signal.throwIfAborted();
    };
    await assert.rejects(publishVdisk(interrupted, request), /interrupted/);
    assert.equal((await readdir(dirs.store)).some((name) => name === "ws2022-apps-3.2.0.vhdx"), false);
    await writeFile(join(dirs.store, ".ws2022-apps-3.2.0.vhdx.dead.partial"), "stale");
    const published = await publishVdisk(store, request);
    assert.equal(published.skipped, false);
    assert.deepEqual((await readdir(dirs.store)).sort(), ["ws2022-apps-3.2.0.rebake.ini", "ws2022-apps-3.2.0.vhdx"]);
  });

  it("removes its temp file when the copy is aborted by the signal", async () => {
    const store = await fresh();
    const controller = new AbortController();
    controller.abort(new Error("cancelled by SIGINT"));
    await assert.rejects(publishVdisk(store, request, { signal: controller.signal }), /cancelled by SIGINT/);
    assert.deepEqual(await readdir(dirs.store), []);
  });

  it("fails clearly when the store is unreachable", async () => {
    const store = new FilesystemStore(join(dirs.root, "not-mounted"));
    await assert.rejects(publishVdisk(store, request), (error: unknown) => error instanceof StoreUnreachableError && /not-mounted is not reachable \(ENOENT\).*mounted/.test(error.message));
  });

  it("serialises two publishes of the same vDisk: one copies, the other waits and skips", async () => {
    const store = await fresh();
    const results = await Promise.all([publishVdisk(store, request), publishVdisk(new FilesystemStore(dirs.store), request)]);
    assert.deepEqual(results.map((r) => r.skipped).sort(), [false, true]);
    assert.deepEqual((await readdir(dirs.store)).sort(), ["ws2022-apps-3.2.0.rebake.ini", "ws2022-apps-3.2.0.vhdx"]);
  });

  it("fails clearly when another publish holds the lock past the timeout", async () => {
    const store = await fresh();
    await writeFile(join(dirs.store, "ws2022-apps-3.2.0.rebake-lock"), "ci-runner-7 pid 42\n");
    await assert.rejects(publishVdisk(store, request, { lockTimeoutMs: 300 }), (error: unknown) => error instanceof VdiskBusyError && /ci-runner-7 pid 42/.test(error.message) && /300 ms/.test(error.message));
    assert.deepEqual(await readdir(dirs.store), ["ws2022-apps-3.2.0.rebake-lock"]);
  });

  it("removes the vDisk and its sidecar", async () => {
    const store = await fresh();
    await publishVdisk(store, request);
    await removeVdisk(store, request.name);
    assert.deepEqual(await readdir(dirs.store), []);
  });

  it("keeps the vDisk when removal is refused because PVS holds it", async () => {
    const store = await fresh();
    await publishVdisk(store, request);
    await writeFile(join(dirs.store, "ws2022-apps-3.2.0.lok"), "");
    await assert.rejects(removeVdisk(store, request.name), VdiskLockedError);
    assert.deepEqual(await readVdisk(store, request.name), { sha256: request.sha256, size: request.size });
  });
});

describe("vDisk publish into a full store", () => {
  it("fails with StoreFullError and leaves no partial file (a real 1 MiB tmpfs)", async () => {
    const root = await mkdtemp(join(tmpdir(), "rebake-full-"));
    const mountpoint = join(root, "store");
    await mkdir(mountpoint);
    try {
      // A full disk is only proven by a real filesystem running out of space: when the mount is
      // refused (not root, no CAP_SYS_ADMIN) this test fails rather than imitate ENOSPC.
      await run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountpoint]).catch((error: unknown) => {
        throw new Error(`cannot mount a 1 MiB tmpfs at ${mountpoint} to fill (run the suite as root): ${String(error)}`);
      });
      try {
        const request = await sourceVhdx(root, "big", 2 * MIB);
        await assert.rejects(publishVdisk(new FilesystemStore(mountpoint), request), (error: unknown) => error instanceof StoreFullError && /is full .*ENOSPC/.test(error.message) && /free space/.test(error.message));
        assert.deepEqual(await readdir(mountpoint), []);
      } finally {
        await run("umount", [mountpoint]);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
