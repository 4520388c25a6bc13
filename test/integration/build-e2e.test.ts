/**
 * The whole product for real: `rebake build recipes/linux-demo.yaml` under QEMU (TCG) from the
 * rebake test OS ISO, capture to VHDX, verify by booting the vDisk; `rebake verify` as a command on
 * that artifact, passing and then failing a check the image does not meet; then a rebuild after
 * changing only the last app, which must rerun only the steps from that app on and reboot the guest
 * because the changed install asks for it the Debian way (/var/run/reboot-required).
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.ts";
import { captureIo } from "../support/capture-io.ts";
import { placeTestOsIso, testOsIso, TESTOS_BUILD_TIMEOUT_MS } from "../support/testos-iso.ts";
import { sha256File } from "../../src/util/hash-file.ts";
import { manifestSchemaErrors } from "../../src/manifest/validate-manifest.ts";
import type { BuildManifest } from "../../src/manifest/model.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
let ISO = "";
const BUILD_TIMEOUT_MS = 15 * 60_000;

/** A copy of the demo project whose apps can be edited, sharing the test OS ISO. */
async function demoProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "rebake-e2e-"));
  await cp(join(root, "recipes/linux-demo.yaml"), join(dir, "recipes/linux-demo.yaml"));
  await cp(join(root, "apps"), join(dir, "apps"), { recursive: true });
  await placeTestOsIso(dir, ISO);
  return dir;
}

before(async () => {
  ISO = await testOsIso();
}, { timeout: TESTOS_BUILD_TIMEOUT_MS });

test("the demo recipe builds, captures and verifies for real; rebake verify passes and fails on the artifact; a rebuild after the last app changes reruns only from it and reboots when the app asks", { timeout: 2 * BUILD_TIMEOUT_MS }, async () => {
  const dir = await demoProject();
  const env = { REBAKE_CACHE_DIR: join(dir, "cache") };
  try {
    const first = captureIo(dir, { ...process.env, ...env });
    const code = await main(["build", "recipes/linux-demo.yaml", "--out", "out", "--timeout", "15m"], first);
    assert.equal(code, 0, `build failed:\n${first.all()}`);
    const manifest = JSON.parse(await readFile(join(dir, "out/manifest.json"), "utf8")) as BuildManifest;
    assert.deepEqual(manifestSchemaErrors(manifest), []);
    const vhdx = manifest.outputs.find((o) => o.kind === "vhdx");
    assert.ok(vhdx && vhdx.kind === "vhdx");
    const vdisk = join(dir, "out", vhdx.path);
    assert.equal(await sha256File(vdisk), vhdx.sha256, "the vDisk is byte-identical after verify");
    assert.ok(manifest.verification?.passed, `verification: ${JSON.stringify(manifest.verification)}`);
    assert.equal(manifest.verification.artifactSha256, vhdx.sha256);
    assert.ok(manifest.steps.every((s) => !s.cacheHit));
    assert.ok(manifest.inputs.every((i) => /^[a-f0-9]{64}$/.test(i.sha256 ?? "")));
    assert.ok(["qemu", "qemu-img", "xorriso", "node", "rebake"].every((t) => manifest.tools[t]));

    // rebake verify, the command, on the artifact the build wrote: it passes and the vDisk stays the same.
    const verify = async () => {
      const io = captureIo(dir, { ...process.env, ...env });
      const exit = await main(["verify", "out/manifest.json", "--json"], io);
      return { exit, io, report: JSON.parse(io.out()) as { passed: boolean; artifactSha256?: string; checks: { name: string; passed: boolean }[] } };
    };
    const CHECKS = ["sysinfo-runs", "motd-written", "target-device-installed", "hostname"];
    const passing = await verify();
    assert.equal(passing.exit, 0, passing.io.all());
    assert.equal(passing.report.passed, true);
    assert.deepEqual(passing.report.checks.map((c) => [c.name, c.passed]), CHECKS.map((name) => [name, true]));
    assert.equal(passing.report.artifactSha256, vhdx.sha256);
    assert.equal(await sha256File(vdisk), vhdx.sha256);

    // A check the image does not meet: verify fails, naming it, exit 1, and the manifest records the failure.
    const recipeFile = join(dir, "recipes/linux-demo.yaml");
    const recipeText = await readFile(recipeFile, "utf8");
    await writeFile(recipeFile, `${recipeText.trimEnd()}\n  - name: never-installed\n    shell: sh\n    run: test -f /opt/never-installed\n`);
    const failing = await verify();
    assert.equal(failing.exit, 1, failing.io.all());
    assert.equal(failing.report.passed, false);
    assert.deepEqual(failing.report.checks.map((c) => [c.name, c.passed]), [...CHECKS.map((name) => [name, true]), ["never-installed", false]]);
    const recorded = JSON.parse(await readFile(join(dir, "out/manifest.json"), "utf8")) as BuildManifest;
    assert.equal(recorded.verification?.passed, false);
    await writeFile(recipeFile, recipeText);

    // Change only the last app: its install now asks for a reboot as Debian packages do, and the
    // app lets it (reboot: if-required).
    const motd = join(dir, "apps/demo-motd.yaml");
    const motdText = await readFile(motd, "utf8");
    assert.match(motdText, /^reboot: never$/m);
    await writeFile(motd, motdText.replace('install.sh"\n', 'install.sh" && touch /var/run/reboot-required\n').replace(/^reboot: never$/m, "reboot: if-required"));
    const second = captureIo(dir, { ...process.env, ...env });
    const again = await main(["build", "recipes/linux-demo.yaml", "--out", "out2", "--no-verify"], second);
    assert.equal(again, 0, `rebuild failed:\n${second.all()}`);
    const rebuilt = JSON.parse(await readFile(join(dir, "out2/manifest.json"), "utf8")) as BuildManifest;
    const planSteps = rebuilt.steps.filter((s) => s.hash);
    const from = planSteps.findIndex((s) => s.id.includes("demo-motd"));
    assert.ok(from > 0, `a demo-motd step in ${planSteps.map((s) => s.id).join(", ")}`);
    assert.deepEqual(
      planSteps.map((s) => s.cacheHit),
      planSteps.map((_, i) => i < from),
      `cache hits: ${planSteps.map((s) => `${s.id}=${s.cacheHit}`).join(", ")}`,
    );
    const motdStep = planSteps[from]!;
    const motdLog = await readFile(join(dir, "out2", motdStep.log ?? ""), "utf8");
    assert.match(motdLog, /exit code 194\n[\s\S]*rebooting \(a command asked for a reboot\)/, motdLog);
    assert.ok(planSteps.slice(from + 1).every((s) => s.status === "ok"), "the steps after the reboot ran in the rebooted guest");
    assert.ok(rebuilt.timings.totalMs < manifest.timings.totalMs, "the rebuild is faster than the full build");
    assert.equal(rebuilt.resumedFromMemory, true, "the rebuild continued the guest from the memory saved with the cached layer");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
