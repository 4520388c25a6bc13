/** `rebake sync` end to end on local directories: stack file, build manifest, exit codes, output. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { workspace } from "../distribute/fixtures.ts";
import { syncProject as project } from "../support/sync-project.ts";

function captureIo(cwd: string): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    cwd,
    env: {},
    isTty: false,
    signal: new AbortController().signal,
  };
  return io;
}

test("rebake sync copies to every site, prints a summary table, and skips on the rerun", async () => {
  const ws = await workspace();
  try {
    const root = await project(ws, [await ws.dir("a"), await ws.dir("b")]);
    const first = captureIo(root);
    assert.equal(await main(["sync", "--stack", "t", "--concurrency", "2"], first), 0, first.err);
    assert.match(first.out, /Site0: full/);
    assert.match(first.out, /SITE\s+STATUS\s+SENT/);
    const second = captureIo(root);
    assert.equal(await main(["sync", "--stack", "t", "--json"], second), 0, second.err);
    const json = JSON.parse(second.out) as { vdisk: string; sites: { status: string }[] };
    assert.equal(json.vdisk, "ws2022-pvs-1.0.0");
    assert.deepEqual(json.sites.map((s) => s.status), ["skipped", "skipped"]);
  } finally {
    await ws.cleanup();
  }
});

test("rebake sync exits 3 when some sites fail and 1 when all do", async () => {
  const ws = await workspace();
  try {
    const missing = join(ws.root, "missing");
    const root = await project(ws, [missing, await ws.dir("ok")]);
    const partial = captureIo(root);
    assert.equal(await main(["sync", "--stack", "t"], partial), 3);
    assert.match(partial.out, /Site0: FAILED StoreUnreachableError/);
    const ws2 = await workspace();
    try {
      const root2 = await project(ws2, [join(ws2.root, "gone")]);
      assert.equal(await main(["sync", "--stack", "t", "--json"], captureIo(root2)), 1);
    } finally {
      await ws2.cleanup();
    }
  } finally {
    await ws.cleanup();
  }
});

for (const [args, pattern] of [[["sync"], /--stack is required/], [["sync", "--stack", "t", "--concurrency", "0"], /--concurrency/], [["sync", "--stack", "t", "--bwlimit", "fast"], /--bwlimit/]] as const) {
  test(`rebake ${args.join(" ")} is a usage error`, async () => {
    const io = captureIo("/nonexistent");
    assert.equal(await main([...args], io), 2);
    assert.match(io.err, pattern);
  });
}
