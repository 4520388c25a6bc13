import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { RECENT_MS, rememberedDigests } from "../../src/cache/file-digests.ts";

/** A digest that counts the files it read. */
function countingDigest() {
  const reads: string[] = [];
  const digest = async (path: string) => {
    reads.push(path);
    return createHash("sha256").update(await readFile(path)).digest("hex");
  };
  return { reads, digest };
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "rbfd-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A clock far enough after every file's last change that none of them is racy. */
const later = () => Date.now() + 10 * RECENT_MS;

test("an unchanged file is read once: later plans answer from the remembered digest", () =>
  withDir(async (dir) => {
    const file = join(dir, "os.iso");
    await writeFile(file, "install media");
    const { reads, digest } = countingDigest();
    const digests = rememberedDigests(join(dir, "digests"), digest, { now: later });
    const first = await digests(file);
    assert.equal(first, createHash("sha256").update("install media").digest("hex"));
    assert.equal(await digests(file), first);
    assert.equal(await rememberedDigests(join(dir, "digests"), digest, { now: later })(file), first, "another process too");
    assert.deepEqual(reads, [file]);
  }));

test("a file rewritten with the same size and its mtime put back is read again (its ctime moved)", () =>
  withDir(async (dir) => {
    const file = join(dir, "os.iso");
    await writeFile(file, "install media");
    const { mtime } = await stat(file);
    const { reads, digest } = countingDigest();
    const digests = rememberedDigests(join(dir, "digests"), digest, { now: later });
    await digests(file);
    await sleep(20); // past the file system's timestamp granularity
    await writeFile(file, "INSTALL MEDIA");
    await utimes(file, mtime, mtime);
    assert.equal(await digests(file), createHash("sha256").update("INSTALL MEDIA").digest("hex"));
    assert.equal(reads.length, 2);
  }));

test("a file changed moments ago is hashed but not remembered: a change within the timestamp granularity would not show", () =>
  withDir(async (dir) => {
    const file = join(dir, "os.iso");
    await writeFile(file, "install media");
    const { reads, digest } = countingDigest();
    const digests = rememberedDigests(join(dir, "digests"), digest);
    await digests(file);
    await digests(file);
    assert.equal(reads.length, 2);
    assert.deepEqual(await readdir(dir), ["os.iso"], "nothing was written");
  }));

test("a damaged record or a cache that cannot be written costs a read, never a wrong digest", () =>
  withDir(async (dir) => {
    const file = join(dir, "os.iso");
    await writeFile(file, "install media");
    const want = createHash("sha256").update("install media").digest("hex");
    const { reads, digest } = countingDigest();
    const records = join(dir, "digests");
    await rememberedDigests(records, digest, { now: later })(file);
    const [record] = await readdir(records);
    await writeFile(join(records, record!), "{ not json");
    assert.equal(await rememberedDigests(records, digest, { now: later })(file), want);
    const blocked = join(dir, "a-file-not-a-dir");
    await writeFile(blocked, "");
    assert.equal(await rememberedDigests(blocked, digest, { now: later })(file), want);
    assert.equal(reads.length, 3);
  }));

test("a command that only looks uses what builds remembered and writes nothing", () =>
  withDir(async (dir) => {
    const file = join(dir, "os.iso");
    await writeFile(file, "install media");
    const records = join(dir, "digests");
    const { reads, digest } = countingDigest();
    const looking = rememberedDigests(records, digest, { now: later, remember: false });
    await looking(file);
    assert.deepEqual(await readdir(dir), ["os.iso"], "nothing was written");
    await rememberedDigests(records, digest, { now: later })(file);
    await looking(file);
    assert.equal(reads.length, 2, "the build's record answered the second look");
  }));
