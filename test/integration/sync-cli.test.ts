/** `rebake sync` end to end on local directories: stack file, build manifest, exit codes, output. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { content, workspace, type Workspace, pvsStackYaml } from "../distribute/fixtures.ts";
import { createHash } from "node:crypto";

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

/** A project with a built version 1.0.0 (a vhdx and its manifest) and a stack with the given site locations. */
async function project(ws: Workspace, locations: readonly string[]): Promise<string> {
  const root = await ws.dir("project");
  const out = await ws.dir("project/out/ws2022-pvs/1.0.0");
  const data = content(20, (b) => b, 5);
  await writeFile(join(out, "ws2022-pvs.vhdx"), data);
  await writeFile(join(out, "manifest.json"), JSON.stringify({
    manifestVersion: 1,
    buildId: "b1",
    target: "pvs",
    recipe: { name: "ws2022-pvs", version: "1.0.0", file: "recipes/none.yaml", hash: "a".repeat(64) },
    outputs: [{ kind: "vhdx", path: "ws2022-pvs.vhdx", size: data.length, sha256: createHash("sha256").update(data).digest("hex") }],
  }));
  await mkdir(join(root, "stacks"), { recursive: true });
  await writeFile(join(root, "stacks", "Pulumi.t.yaml"), pvsStackYaml("1.0.0", locations));
  return root;
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
