/**
 * Snapshot files for generated answer files. `REBAKE_UPDATE_SNAPSHOTS=1` rewrites them; review
 * the diff before committing, since a snapshot change is a change to what installers read.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export const FIXTURES = new URL("../fixtures/answers/", import.meta.url).pathname;

export async function assertSnapshot(path: string, actual: string): Promise<void> {
  if (process.env.REBAKE_UPDATE_SNAPSHOTS === "1") {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, actual);
    return;
  }
  const expected = await readFile(path, "utf8").catch(() => {
    throw new Error(`snapshot ${path} is missing; run with REBAKE_UPDATE_SNAPSHOTS=1 to write it, then review it`);
  });
  assert.equal(actual, expected, `${path} differs from the generated file; if the change is intended, rerun with REBAKE_UPDATE_SNAPSHOTS=1`);
}
