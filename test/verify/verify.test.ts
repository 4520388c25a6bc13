import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "../../src/runner/build.ts";
import { verifyArtifact } from "../../src/verify/verify.ts";
import { recordVerification } from "../../src/verify/record-verification.ts";
import { readManifest } from "../../src/manifest/write-manifest.ts";
import { manifestSchemaErrors } from "../../src/manifest/validate-manifest.ts";
import type { Check } from "../../src/recipe/model.ts";
import { createFakes, createFixture } from "../runner/helpers/build-fixture.ts";

const checks: Check[] = [
  { name: "hello-runs", shell: "sh", run: "hello" },
  { name: "banner-present", shell: "sh", run: "banner", description: "the banner app left its file" },
  { name: "slow", shell: "sh", run: "slow", timeoutSeconds: 0.05 },
];

test("verify boots the vDisk under a throwaway overlay, runs every check and records pass or fail", async () => {
  const f = await createFixture();
  try {
    const built = await build(f.request(f.plan()), f.deps(createFakes()));
    const fakes = createFakes({
      exec: (script) => (script === "banner" ? { exitCode: 1, stdout: "grep: /opt/banner/banner.txt: No such file" } : script === "slow" ? { hang: true } : undefined),
    });
    const verification = await verifyArtifact(
      { manifest: built.manifest, manifestPath: built.manifestPath, checks, recipeDir: f.root, signal: new AbortController().signal, emit: () => undefined, bootTimeoutMs: 1000 },
      { driver: fakes.driver, tempRoot: f.tempRoot },
    );
    const vhdx = join(f.outDir, "demo-vdisk.vhdx");
    assert.equal(fakes.specs[0]?.disk.baseLayer, vhdx, "the overlay is a child of the vDisk");
    assert.ok(fakes.specs[0]?.disk.path.startsWith(f.tempRoot));
    assert.deepEqual(await readdir(f.tempRoot), [], "the overlay is removed");
    assert.deepEqual(fakes.destroyed, ["vm-1"]);
    assert.deepEqual(verification.checks.map((c) => [c.name, c.passed]), [["hello-runs", true], ["banner-present", false], ["slow", false]]);
    assert.match(verification.checks[1]!.detail ?? "", /No such file/);
    assert.match(verification.checks[2]!.detail ?? "", /timed out after 50 ms/);
    assert.equal(verification.passed, false);
    assert.equal(verification.artifactSha256, (built.manifest.outputs[0] as { sha256: string }).sha256, "the vDisk is unchanged");
    const recorded = await recordVerification(built.manifestPath, built.manifest, verification);
    assert.deepEqual(manifestSchemaErrors(JSON.parse(await readFile(built.manifestPath, "utf8"))), []);
    assert.deepEqual((await readManifest(built.manifestPath)).verification, recorded.verification);
  } finally {
    await f.dispose();
  }
});
