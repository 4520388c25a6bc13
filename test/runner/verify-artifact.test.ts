import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "../../src/runner/build.ts";
import { VerificationFailedError } from "../../src/runner/errors.ts";
import type { StepsFailedError } from "../../src/runner/run-steps.ts";
import { artifactOf, verifyArtifact } from "../../src/runner/verify-artifact.ts";
import { recordVerification } from "../../src/manifest/record-verification.ts";
import { readManifest } from "../../src/manifest/write-manifest.ts";
import { manifestSchemaErrors } from "../../src/manifest/validate-manifest.ts";
import type { Check } from "../../src/recipe/model.ts";
import { createFakes, createFixture } from "../runner/helpers/build-fixture.ts";
import type { BuildManifest } from "../../src/manifest/model.ts";
import { checkGoldenImageArgs } from "../../src/publish/golden-image-args.ts";
import { parseStack } from "../../src/stacks/load-stack.ts";

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
      { artifact: artifactOf(built.manifest, built.manifestPath), checks, recipeDir: f.root, signal: new AbortController().signal, emit: () => undefined, bootTimeoutMs: 1000 },
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

/** What an MCS build records: the golden VM it keeps and the snapshot of it the catalogs get. */
const SNAPSHOT = { kind: "snapshot" as const, name: "win11-mcs-1.4.0-b1", ref: "/out/win11-mcs-b1.qcow2@win11-mcs-1.4.0-b1", vm: { name: "win11-mcs-b1", id: "/out/win11-mcs-b1" }, placement: { resourcePools: [], snapshotChain: ["win11-mcs-1.4.0-b1"] } };

test("verify boots an MCS snapshot's disk under a throwaway overlay, deletes it, and publish then accepts the version", async () => {
  const f = await createFixture();
  try {
    const built = await build(f.request(f.plan()), f.deps(createFakes()));
    const manifest: BuildManifest = { ...built.manifest, target: "mcs", outputs: [SNAPSHOT] };
    const fakes = createFakes();
    const verification = await verifyArtifact(
      { artifact: artifactOf(manifest, built.manifestPath), checks: checks.slice(0, 1), recipeDir: f.root, signal: new AbortController().signal, emit: () => undefined, bootTimeoutMs: 1000 },
      { driver: fakes.driver, tempRoot: f.tempRoot },
    );
    assert.deepEqual(fakes.journal.filter((line) => /^(snapshotLayer|createVm|destroy)/.test(line)).map((line) => line.split(" ")[0]), ["snapshotLayer", "createVm", "destroy"]);
    assert.equal(fakes.journal[0], `snapshotLayer ${SNAPSHOT.ref}`);
    assert.match(fakes.specs[0]!.disk.baseLayer!, /win11-mcs-1\.4\.0-b1\.layer$/, "the overlay is a child of the snapshot's disk");
    assert.deepEqual(await readdir(f.tempRoot), [], "the overlay and the snapshot's layer are removed");
    assert.equal(verification.passed, true);
    assert.equal(verification.artifactSha256, undefined);
    const recorded = await recordVerification(built.manifestPath, manifest, verification);
    assert.deepEqual(manifestSchemaErrors(JSON.parse(await readFile(built.manifestPath, "utf8"))), []);
    const stack = parseStack(`config:
  rebake:target: mcs
  rebake:image: {recipe: ${manifest.recipe.name}, version: ${manifest.recipe.version}}
  rebake:hypervisor: {kind: vsphere, server: vc.corp.example, datacenter: DC1, username: svc, password: env:VC_PASSWORD}
  rebake:mcs:
    cvad: {url: https://api.cloud.com, customerId: corp, siteId: 0b4e9c9a-5d35-4b0a-8f15-9d0c4e7c1a11, token: env:CVAD_TOKEN}
    catalogs:
      - {name: W11-Pooled, id: 3f1b5a2e-8c7d-4e1f-9a6b-2d4c8e0f1a3b, hostingUnit: HU1, reboot: immediate}
`, "stacks/Pulumi.dev.yaml", "dev");
    assert.deepEqual(checkGoldenImageArgs({ stack, manifest: recorded, manifestDir: "/m" }), []);
  } finally {
    await f.dispose();
  }
});

test("verify says which driver cannot boot an MCS snapshot instead of guessing", async () => {
  const f = await createFixture();
  try {
    const built = await build(f.request(f.plan()), f.deps(createFakes()));
    const { snapshotLayer: _none, ...driver } = createFakes().driver;
    await assert.rejects(
      verifyArtifact({ artifact: artifactOf({ ...built.manifest, outputs: [SNAPSHOT] }, built.manifestPath), checks, recipeDir: f.root, signal: new AbortController().signal, emit: () => undefined }, { driver }),
      /the fake driver cannot boot an MCS snapshot/,
    );
  } finally {
    await f.dispose();
  }
});

test("verify is the build's last step: the manifest is written once, with the verification and the step that ran it", async () => {
  const f = await createFixture();
  try {
    const fakes = createFakes();
    const built = await build(f.request(f.plan(), { verify: { checks: checks.slice(0, 1), recipeDir: f.root } }), f.deps(fakes));
    assert.deepEqual(built.manifest.steps.slice(-2).map((s) => [s.id, s.status]), [["capture", "ok"], ["verify", "ok"]]);
    assert.equal(built.manifest.verification?.passed, true);
    assert.deepEqual(built.manifest.verification?.checks.map((c) => c.name), ["hello-runs"]);
    assert.equal(built.manifest.verification?.artifactSha256, (built.manifest.outputs[0] as { sha256: string }).sha256);
    assert.deepEqual(await readManifest(built.manifestPath), built.manifest);
    assert.deepEqual(manifestSchemaErrors(JSON.parse(await readFile(built.manifestPath, "utf8"))), []);
  } finally {
    await f.dispose();
  }
});

test("a failed check fails the build but keeps the vDisk and a manifest recording the failed verification", async () => {
  const f = await createFixture();
  try {
    const fakes = createFakes({ exec: (script) => (script === "banner" ? { exitCode: 1, stdout: "grep: /opt/banner/banner.txt: No such file" } : undefined) });
    const error = await build(f.request(f.plan(), { verify: { checks: checks.slice(0, 2), recipeDir: f.root } }), f.deps(fakes)).then(
      () => assert.fail("the build passed a failed check"),
      (e: unknown) => e as StepsFailedError,
    );
    assert.ok(error.error instanceof VerificationFailedError);
    assert.equal(error.message, "verification failed: banner-present (grep: /opt/banner/banner.txt: No such file)");
    const manifest = await readManifest(join(f.outDir, "manifest.json"));
    assert.deepEqual(manifestSchemaErrors(manifest), []);
    assert.deepEqual(manifest.steps.at(-1) && [manifest.steps.at(-1)!.id, manifest.steps.at(-1)!.status], ["verify", "failed"]);
    assert.deepEqual(manifest.verification?.checks.map((c) => [c.name, c.passed]), [["hello-runs", true], ["banner-present", false]]);
    assert.ok((await readdir(f.outDir)).includes("demo-vdisk.vhdx"), "the captured vDisk stays");
  } finally {
    await f.dispose();
  }
});

test("verify is skipped, with the reason in the manifest, when not asked for or when the driver cannot boot an MCS snapshot", async () => {
  const f = await createFixture();
  try {
    const off = await build(f.request(f.plan()), f.deps(createFakes()));
    assert.deepEqual(off.manifest.steps.at(-1), { ...off.manifest.steps.at(-1)!, id: "verify", status: "skipped", why: "verification was not asked for (--no-verify)" });
    assert.equal(off.manifest.verification, undefined);
    const { snapshotLayer: _none, ...driver } = createFakes().driver;
    const mcsPlan = { ...f.plan(), target: "mcs" as const };
    const mcs = await build(f.request(mcsPlan, { recipe: { ...f.recipe, target: { kind: "mcs" } }, verify: { checks, recipeDir: f.root } }), f.deps({ ...createFakes(), driver }));
    assert.equal(mcs.manifest.steps.at(-1)?.status, "skipped");
    assert.match(mcs.manifest.steps.at(-1)?.why ?? "", /the fake driver cannot boot an MCS snapshot/);
  } finally {
    await f.dispose();
  }
});
