/**
 * Snapshot files: generated text committed beside the tests, reviewed like code. A test only ever
 * compares; `npm run snapshots` (scripts/update-snapshots.ts) is the one way to rewrite them, a
 * separate command whose git diff is then reviewed. No environment variable turns a test run into
 * a rewrite, so a test that passes has compared the output with what was reviewed.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

/** One committed file and how to produce it; modules named `*.snapshots.ts` export a list of these. */
export interface Snapshot {
  /** Absolute path of the committed file. */
  readonly file: string;
  readonly produce: () => string | Promise<string>;
}

export const UPDATE_COMMAND = "npm run snapshots";

/** Produces the snapshot's text, checks it against the committed file, and returns it for further checks. */
export async function assertSnapshot(snapshot: Snapshot): Promise<string> {
  const actual = await snapshot.produce();
  const expected = await readFile(snapshot.file, "utf8").catch(() => {
    throw new Error(`snapshot ${snapshot.file} is missing; run \`${UPDATE_COMMAND}\` to write it, then review it`);
  });
  assert.equal(actual, expected, `${snapshot.file} differs from the generated text; if the change is intended, run \`${UPDATE_COMMAND}\` and review the diff`);
  return actual;
}
