/**
 * SIGINT in the middle of a real build (during the OS install under QEMU): the CLI exits 130 and
 * leaves no qemu process, no work dir, no uncommitted layer and no artifact behind.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { BuildEvent } from "../../src/runner/events.ts";
import { placeTestOsIso, testOsIso, TESTOS_BUILD_TIMEOUT_MS } from "../support/testos-iso.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
let ISO = "";
const qemuOf = (buildId: string) => execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((l) => l.includes("qemu-system") && l.includes(buildId));

/** Resolves once QEMU runs the installer for this build: the moment to interrupt, instead of a guessed delay. */
async function qemuRunning(buildId: string): Promise<void> {
  while (qemuOf(buildId).length === 0) await sleep(100);
}

before(async () => {
  ISO = await testOsIso();
}, { timeout: TESTOS_BUILD_TIMEOUT_MS });

test("SIGINT during the OS install leaves no qemu process, temp file, uncommitted layer or artifact", { timeout: 5 * 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "rebake-sigint-"));
  try {
    await cp(join(root, "recipes/linux-demo.yaml"), join(dir, "recipes/linux-demo.yaml"));
    await cp(join(root, "apps"), join(dir, "apps"), { recursive: true });
    await placeTestOsIso(dir, ISO);
    const child = spawn(process.execPath, ["--import", join(root, "node_modules/tsx/dist/esm/index.mjs"), join(root, "src/cli/main.ts"), "build", "recipes/linux-demo.yaml", "--out", "out", "--json"], {
      cwd: dir,
      env: { ...process.env, REBAKE_CACHE_DIR: join(dir, "cache"), TMPDIR: join(dir) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let buildId = "";
    for await (const line of createInterface({ input: child.stdout })) {
      const event = JSON.parse(line) as BuildEvent;
      if (event.type === "build-start") buildId = event.buildId;
      if (event.type === "step-start" && event.step.includes("os-install")) {
        void qemuRunning(buildId).then(() => child.kill("SIGINT"));
      }
    }
    assert.equal(await exited, 130, stderr);
    assert.match(stderr, /build interrupted \(interrupted by SIGINT\) during step 01-os-install/);
    assert.ok(buildId);
    assert.deepEqual(qemuOf(buildId), [], "no qemu process of this build");
    const leftovers = (await readdir(dir)).filter((n) => n.startsWith("rebake-"));
    assert.deepEqual(leftovers, [], "no work dir or VM runtime dir");
    assert.deepEqual(await readdir(join(dir, "cache/layers")), [], "no uncommitted layer");
    assert.ok(!(await readdir(join(dir, "out"))).some((n) => n.endsWith(".vhdx") || n.includes("partial") || n === "manifest.json"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
