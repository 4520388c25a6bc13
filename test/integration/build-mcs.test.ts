/**
 * An MCS image for real under QEMU (TCG or KVM, as the probe decides): the demo recipe with an MCS
 * target builds, shuts the golden VM down, snapshots it, captures nothing, and is verified by
 * booting a throwaway copy of the snapshot's disk and running the recipe's checks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildManifest } from "../../src/manifest/model.ts";
import { runCliJson } from "../support/cli-child.ts";
import { placeTestOsIso, TESTOS_BUILD_TIMEOUT_MS } from "../support/testos-iso.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const BUILD_BOUND_MS = 10 * 60_000;

test("an MCS build snapshots the shut-down golden VM and is verified by booting the snapshot's disk", { timeout: BUILD_BOUND_MS + TESTOS_BUILD_TIMEOUT_MS }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "rebake-mcs-"));
  try {
    await cp(join(root, "apps"), join(dir, "apps"), { recursive: true });
    await mkdir(join(dir, "recipes"));
    await cp(join(root, "test/fixtures/mcs-demo/recipes/linux-demo-mcs.yaml"), join(dir, "recipes/linux-demo.yaml"));
    await placeTestOsIso(dir);
    const run = await runCliJson(["build", "recipes/linux-demo.yaml", "--out", "out", "--json"], {
      cwd: dir,
      env: { ...process.env, REBAKE_CACHE_DIR: join(dir, "cache"), TMPDIR: dir },
      boundMs: BUILD_BOUND_MS,
    });
    assert.equal(run.code, 0, run.stderr);
    const manifest = JSON.parse(await readFile(join(dir, "out/manifest.json"), "utf8")) as BuildManifest;
    assert.equal(manifest.target, "mcs");
    const snapshot = manifest.outputs.find((o) => o.kind === "snapshot");
    assert.ok(snapshot && snapshot.kind === "snapshot", JSON.stringify(manifest.outputs));
    assert.ok(!manifest.outputs.some((o) => o.kind === "vhdx"), "MCS captures no vDisk");
    const steps = Object.fromEntries(manifest.steps.map((s) => [s.id, s.status]));
    assert.equal(steps["capture"], "skipped");
    assert.equal(steps["08-shutdown"], "ok", "the golden VM is shut down before the snapshot");
    assert.equal(manifest.verification?.passed, true, JSON.stringify(manifest.verification));
    assert.deepEqual(manifest.verification.checks.map((c) => [c.name, c.passed]), [["sysinfo-runs", true], ["motd-written", true], ["vda-standin", true], ["hostname", true]]);
    const ends = run.events.filter((e) => e.type === "step-end").map((e) => (e.type === "step-end" ? e.step : ""));
    assert.ok(ends.indexOf("verify-boot") > ends.indexOf("release-vm"), "verify boots after the snapshot exists");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
