import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeOwnedDir, OWNER_FILE, removeAbandonedDirs } from "../../src/util/owned-dir.ts";

/** A /proc with one stat line per pid: field 22 (start time) is what tells a reused pid apart. */
async function fakeProc(root: string, processes: Record<number, string>): Promise<string> {
  const proc = path.join(root, "proc");
  for (const [pid, start] of Object.entries(processes)) {
    await mkdir(path.join(proc, pid), { recursive: true });
    // Fields 3.. after the command; the command itself holds spaces and parentheses, as real ones may.
    const fields = Array.from({ length: 50 }, (_, i) => (i === 19 ? start : i === 0 ? "S" : "0"));
    await writeFile(path.join(proc, pid, "stat"), `${pid} (node (test) x) ${fields.join(" ")}`);
  }
  return proc;
}

describe("work dirs of builds that are gone", () => {
  const cases: { name: string; owner?: { pid: number; start: string }; prefix: string; running: Record<number, string>; removed: boolean }[] = [
    { name: "keeps the dir of a build that still runs", owner: { pid: 100, start: "777" }, prefix: "rebake-b1-", running: { 100: "777" }, removed: false },
    { name: "removes the dir of a build whose process is gone", owner: { pid: 101, start: "777" }, prefix: "rebake-b2-", running: {}, removed: true },
    { name: "removes the dir when its pid now belongs to another process", owner: { pid: 102, start: "777" }, prefix: "rebake-vm-", running: { 102: "999" }, removed: true },
    { name: "leaves a dir without an owner file alone", prefix: "rebake-b3-", running: {}, removed: false },
    { name: "leaves dirs that are not rebake's alone", owner: { pid: 103, start: "777" }, prefix: "other-", running: {}, removed: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const root = await mkdtemp(path.join(tmpdir(), "owned-"));
      try {
        const tmp = path.join(root, "tmp");
        await mkdir(tmp);
        const procRoot = await fakeProc(root, { ...(c.owner ? { [c.owner.pid]: c.owner.start } : {}), 1: "1" });
        const dir = c.owner ? await makeOwnedDir(tmp, c.prefix, { pid: c.owner.pid, procRoot }) : await mkdtemp(path.join(tmp, c.prefix));
        // Now the world as it is when the next build looks.
        await rm(path.join(root, "proc"), { recursive: true });
        const nowProc = await fakeProc(root, c.running);
        const removed = await removeAbandonedDirs(tmp, ["rebake-"], { procRoot: nowProc });
        assert.deepEqual(removed, c.removed ? [dir] : []);
        assert.deepEqual(await readdir(tmp), c.removed ? [] : [path.basename(dir)]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  }

  it("removes the dir of a real process killed with SIGKILL, and not before", async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), "owned-real-"));
    try {
      const child = spawn("sleep", ["600"], { stdio: "ignore" });
      const dir = await makeOwnedDir(tmp, "rebake-killed-", { pid: child.pid! });
      assert.match(await import("node:fs/promises").then((fs) => fs.readFile(path.join(dir, OWNER_FILE), "utf8")), new RegExp(`"pid":${child.pid}`));
      assert.deepEqual(await removeAbandonedDirs(tmp, ["rebake-"]), []);
      child.kill("SIGKILL");
      await once(child, "exit");
      assert.deepEqual(await removeAbandonedDirs(tmp, ["rebake-"]), [dir]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
