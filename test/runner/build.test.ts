import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { build } from "../../src/runner/build.ts";
import { BuildInterruptedError, BuildTimeoutError, GuestCommandFailedError, StepTimeoutError, UploadChecksumError } from "../../src/runner/errors.ts";
import { CacheFullError } from "../../src/cache/errors.ts";
import { ERROR_TAIL_LINES } from "../../src/util/exec.ts";
import { buildFailure, createFakes, withFixture, type Fixture } from "./helpers/build-fixture.ts";

/** Nothing left behind: no temp dir, no uncommitted layer, no partial or final artifact. */
async function assertNothingLeft(f: Fixture, fakes: ReturnType<typeof createFakes>, committedSteps: number): Promise<void> {
  assert.deepEqual(await readdir(f.tempRoot), [], "the work dir is removed");
  const layers = await readdir(join(f.cacheDir, "layers"));
  assert.equal(layers.filter((n) => n.endsWith(".qcow2")).length, committedSteps, `only committed layers remain: ${layers.join(", ")}`);
  assert.equal(layers.filter((n) => n.endsWith(".json")).length, committedSteps);
  const out = await readdir(f.outDir).catch(() => [] as string[]);
  assert.ok(!out.some((n) => n.endsWith(".vhdx") || n.includes(".partial")), `no artifact under any name: ${out.join(", ")}`);
  assert.equal(fakes.destroyed.length, fakes.specs.length, "every VM created was destroyed");
}

test("a build runs every step in order, commits a layer per step and writes the vDisk and manifest", () =>
  withFixture(async (f) => {
    const fakes = createFakes();
    const plan = f.plan();
    const { manifest, manifestPath } = await build(f.request(plan), f.deps(fakes));
    const layersDir = join(f.cacheDir, "layers");
    assert.deepEqual(fakes.journal, [
      `createVm ${join(layersDir, `${plan.steps[0]!.hash}.qcow2`)}`,
      "attachMedia install,answers",
      "powerOn",
      "waitPoweredOff",
      "attachMedia ",
      `checkpoint ${join(layersDir, `${plan.steps[1]!.hash}.qcow2`)}`,
      "powerOn",
      "guest.waitReady",
      "guest.exec mkdir -p '/var/tmp/rebake/a'",
      "guest.upload /var/tmp/rebake/a/app-a.tar",
      "guest.exec install-a",
      `checkpoint ${join(layersDir, `${plan.steps[2]!.hash}.qcow2`)}`,
      "guest.exec mkdir -p '/var/tmp/rebake/uploads/03-app-b'",
      "guest.upload /var/tmp/rebake/uploads/03-app-b/app-b.tar",
      "guest.exec install-b",
      `checkpoint ${join(layersDir, `${plan.steps[3]!.hash}.qcow2`)}`,
      "guest.exec seal",
      "guest.shutdown",
      "waitPoweredOff",
      `checkpoint ${fakes.journal.find((j) => j.endsWith("tail.qcow2"))!.slice("checkpoint ".length)}`,
      "guest.close",
      "exportDisk vm-1",
      "destroy vm-1",
    ]);
    assert.equal(manifest.outputs[0]?.kind, "vhdx");
    const vhdx = manifest.outputs[0]!;
    assert.ok(vhdx.kind === "vhdx" && (await stat(join(f.outDir, vhdx.path))).size > 0);
    assert.deepEqual(
      manifest.steps.map((s) => [s.id, s.status, s.cacheHit]),
      [["prepare", "ok", false], ["fetch-inputs", "ok", false], ["answer-media", "ok", false], ["create-vm", "ok", false], ["01-os", "ok", false], ["02-app-a", "ok", false], ["03-app-b", "ok", false], ["04-seal", "ok", false], ["release-vm", "ok", false], ["capture", "ok", false], ["verify", "skipped", false]],
    );
    assert.equal(manifest.steps.find((s) => s.id === "02-app-a")?.exitCode, 0);
    assert.equal(manifest.inputs.length, 3);
    assert.ok(manifest.inputs.every((i) => i.fetched && /^[a-f0-9]{64}$/.test(i.sha256 ?? "")));
    assert.match(await readFile(join(f.outDir, "logs", "02-app-a.log"), "utf8"), /upload checked inside the guest/);
    assert.equal(JSON.parse(await readFile(manifestPath, "utf8")).buildId, manifest.buildId);
    await assertNothingLeft({ ...f, outDir: join(f.root, "none") }, fakes, 4);
  }));

test("a rebuild after changing only the last app resumes from the cached layer before it", () =>
  withFixture(async (f) => {
    await build(f.request(f.plan()), f.deps(createFakes()));
    const fakes = createFakes();
    const changed = f.plan({ lastApp: "install-b --newer" });
    const { manifest } = await build(f.request(changed), f.deps(fakes));
    assert.equal(fakes.specs[0]?.disk.baseLayer, join(f.cacheDir, "layers", `${changed.steps[1]!.hash}.qcow2`));
    assert.equal(fakes.specs[0]?.disk.path, join(f.cacheDir, "layers", `${changed.steps[2]!.hash}.qcow2`));
    assert.ok(!fakes.journal.includes("guest.exec install-a"), "app-a is not installed again");
    assert.ok(fakes.journal.includes("guest.exec install-b --newer"));
    assert.deepEqual(
      manifest.steps.filter((s) => s.hash).map((s) => [s.id, s.cacheHit]),
      [["01-os", true], ["02-app-a", true], ["03-app-b", false], ["04-seal", false]],
    );
    assert.ok(!manifest.inputs.find((i) => i.name === "test OS ISO")?.fetched, "the ISO is not needed");
    assert.equal(fakes.specs[0]?.disk.firmwareVars, undefined, "a BIOS VM has no variable store to carry");
    assert.equal(fakes.specs[0]?.disk.tpmState, undefined, "nor a TPM without one");
  }));

test("a UEFI + TPM rebuild starts from the variable store and TPM state saved with the cached layer it resumes from", () =>
  withFixture(async (f) => {
    const uefi = { ...f.recipe, hardware: { ...f.recipe.hardware, firmware: "uefi" as const, tpm: true } };
    await build(f.request(f.plan(), { recipe: uefi }), f.deps(createFakes()));
    const fakes = createFakes();
    const changed = f.plan({ lastApp: "install-b --newer" });
    await build(f.request(changed, { recipe: uefi }), f.deps(fakes));
    const vars = join(f.cacheDir, "layers", `${changed.steps[1]!.hash}.uefi-vars`);
    assert.equal(fakes.specs[0]?.disk.firmwareVars, vars);
    assert.match(await readFile(vars, "utf8"), /^uefi variables of rebake-demo-/);
    const tpm = join(f.cacheDir, "layers", `${changed.steps[1]!.hash}.tpm-state`);
    assert.equal(fakes.specs[0]?.disk.tpmState, tpm);
    assert.match(await readFile(tpm, "utf8"), /^tpm state of rebake-demo-/);
  }));

test("an unchanged rebuild creates no VM and captures the last cached layer through the driver", () =>
  withFixture(async (f) => {
    await build(f.request(f.plan()), f.deps(createFakes()));
    const fakes = createFakes();
    const plan = f.plan();
    const { manifest } = await build(f.request(plan), f.deps(fakes));
    assert.deepEqual(fakes.journal, [`exportLayer ${join(f.cacheDir, "layers", `${plan.steps.at(-1)!.hash}.qcow2`)}`]);
    assert.ok(manifest.steps.filter((s) => s.hash).every((s) => s.cacheHit && s.status === "cached"));
    assert.deepEqual(
      manifest.steps.filter((s) => !s.hash).map((s) => [s.id, s.status, s.cacheHit]),
      [["prepare", "ok", false], ["fetch-inputs", "skipped", false], ["answer-media", "skipped", false], ["create-vm", "skipped", false], ["release-vm", "skipped", false], ["capture", "ok", false], ["verify", "skipped", false]],
      "steps that do not apply are skipped, not cache hits",
    );
    assert.match(manifest.steps.find((s) => s.id === "create-vm")?.why ?? "", /every step is cached/);
  }));

test("--no-cache builds from the ISO in the work dir and commits nothing", () =>
  withFixture(async (f) => {
    await build(f.request(f.plan()), f.deps(createFakes()));
    const fakes = createFakes();
    const { manifest } = await build(f.request(f.plan(), { noCache: true }), f.deps(fakes));
    assert.equal(fakes.specs[0]?.disk.baseLayer, undefined);
    assert.ok(fakes.specs[0]!.disk.path.startsWith(f.tempRoot));
    assert.ok(manifest.steps.every((s) => !s.cacheHit));
    // Nothing is committed, so no step freezes a layer but the last, which the capture reads.
    assert.deepEqual(fakes.journal.filter((j) => j.startsWith("checkpoint ")).map((j) => basename(j)), ["tail.qcow2"]);
    assert.deepEqual(await readdir(f.tempRoot), []);
  }));

test("a driver whose layers die with the VM builds on an empty cache, commits nothing and captures the VM's disk through the driver", () =>
  withFixture(async (f) => {
    const fakes = createFakes({ layersDieWithVm: true });
    const { manifest } = await build(f.request(f.plan()), f.deps(fakes));
    assert.deepEqual(await readdir(join(f.cacheDir, "layers")).catch(() => []), [], "nothing committed to the shared cache");
    const exported = fakes.journal.indexOf("exportDisk vm-1");
    assert.ok(exported > 0 && exported < fakes.journal.indexOf("destroy vm-1"), "the disk is exported before the VM goes");
    assert.equal(manifest.outputs[0]?.kind, "vhdx");
    assert.deepEqual(await readdir(f.tempRoot), []);
  }));

test("a driver whose layers die with the VM builds from the ISO and offers later builds no layer", () =>
  withFixture(async (f) => {
    await build(f.request(f.plan()), f.deps(createFakes()));
    const fakes = createFakes({ layersDieWithVm: true });
    const request = f.request(f.plan());
    const { manifest } = await build(request, f.deps(fakes));
    assert.equal(fakes.specs[0]?.disk.baseLayer, undefined, "no cached layer of another VM is used");
    assert.ok(fakes.specs[0]!.disk.path.startsWith(f.tempRoot));
    assert.ok(manifest.steps.every((s) => !s.cacheHit));
    assert.ok(request.events.some((e) => e.type === "log" && /layer cache off: fake layers are snapshots of the build VM/.test(e.message)));
  }));

test("an MCS build keeps the golden VM that holds the snapshot and records it in the manifest", () =>
  withFixture(async (f) => {
    const fakes = createFakes();
    const recipe = { ...f.recipe, target: { kind: "mcs", snapshotName: "{name}-{version}" } } as const;
    const { manifest } = await build(f.request({ ...f.plan(), target: "mcs" }, { recipe }), f.deps(fakes));
    assert.ok(fakes.journal.includes("snapshot demo-1.0.0"));
    assert.ok(fakes.journal.includes("release vm-1"), "the golden VM is released, not destroyed");
    assert.deepEqual(fakes.destroyed, []);
    const snapshot = manifest.outputs.find((o) => o.kind === "snapshot");
    assert.deepEqual(snapshot?.kind === "snapshot" && snapshot.vm, { name: fakes.specs[0]!.name, id: "vm-1" });
    const capture = manifest.steps.find((s) => s.id === "capture");
    assert.deepEqual([capture?.status, capture?.cacheHit], ["skipped", false], "an MCS capture does not apply: it is no cache hit");
    assert.match(capture?.why ?? "", /MCS image is the golden VM's snapshot/);
    assert.ok(!fakes.journal.some((j) => j.startsWith("export")), "no disk is exported for MCS");
  }));

test("a failing guest command names the step, its exit code and the last 50 lines of its output", () =>
  withFixture(async (f) => {
    const output = Array.from({ length: 80 }, (_, i) => `line ${i + 1}`).join("\n");
    const fakes = createFakes({ exec: (script) => (script === "install-b" ? { exitCode: 17, stdout: output } : undefined) });
    const error = await buildFailure(build(f.request(f.plan()), f.deps(fakes)));
    assert.ok(error instanceof GuestCommandFailedError);
    assert.match(error.message, /step 03-app-b failed: the guest command exited with code 17/);
    assert.match(error.message, new RegExp(`last ${ERROR_TAIL_LINES} lines`));
    assert.ok(error.message.includes("line 31\n") && error.message.includes("line 80"));
    assert.ok(!error.message.includes("line 30\n"));
    await assertNothingLeft(f, fakes, 2);
  }));

test("a guest command that runs too long times out naming the step", () =>
  withFixture(async (f) => {
    const fakes = createFakes({ exec: (script) => (script === "install-a" ? { hang: true } : undefined) });
    const error = await buildFailure(build(f.request(f.plan({ timeoutSeconds: 0.05 })), f.deps(fakes)));
    assert.ok(error instanceof StepTimeoutError);
    assert.match(error.message, /step 02-app-a timed out after 50 ms/);
    await assertNothingLeft(f, fakes, 1);
  }));

test("a guest that never answers times out naming the step", () =>
  withFixture(async (f) => {
    const fakes = createFakes({ agentNeverAnswers: true });
    const error = await buildFailure(build(f.request(f.plan(), { bootTimeoutMs: 50 }), f.deps(fakes)));
    assert.ok(error instanceof StepTimeoutError);
    assert.match(error.message, /step 02-app-a timed out .*guest agent did not answer/);
    await assertNothingLeft(f, fakes, 1);
  }));

test("an OS install that never powers off times out naming the install step", () =>
  withFixture(async (f) => {
    const fakes = createFakes({ installHangs: true });
    const error = await buildFailure(build(f.request(f.plan(), { installTimeoutMs: 50 }), f.deps(fakes)));
    assert.ok(error instanceof StepTimeoutError);
    assert.match(error.message, /step 01-os timed out .*did not power off/);
    await assertNothingLeft(f, fakes, 0);
  }));

test("SIGINT in the middle of a step leaves no VM, no temp file, no uncommitted layer, no artifact", () =>
  withFixture(async (f) => {
    const controller = new AbortController();
    const fakes = createFakes({
      exec: (script) => (script === "install-b" ? { hang: true } : undefined),
      onExec: (script) => {
        if (script === "install-b") setTimeout(() => controller.abort(new Error("interrupted by SIGINT")), 10);
      },
    });
    const error = await buildFailure(build(f.request(f.plan(), { signal: controller.signal }), f.deps(fakes)));
    assert.ok(error instanceof BuildInterruptedError);
    assert.match(error.message, /during step 03-app-b/);
    await assertNothingLeft(f, fakes, 2);
  }));

test("the build time limit stops the build and names the step it was in", () =>
  withFixture(async (f) => {
    const fakes = createFakes({ exec: (script) => (script === "install-a" ? { hang: true } : undefined) });
    // The limit is a real timer: long enough that the steps before the hanging one finish on a busy
    // machine (100 ms was not), so the limit can only fire in the step that hangs.
    const error = await buildFailure(build(f.request(f.plan(), { timeoutMs: 5_000 }), f.deps(fakes)));
    assert.ok(error instanceof BuildTimeoutError);
    assert.match(error.message, /within 5 s \(it was in step 02-app-a\)/);
    await assertNothingLeft(f, fakes, 1);
  }));

test("--on-error keep leaves the VM and its layer, says how to reach it and releases them later", () =>
  withFixture(async (f) => {
    const fakes = createFakes({ exec: (script) => (script === "install-a" ? { exitCode: 1 } : undefined) });
    let access = "";
    let release: (() => Promise<void>) | undefined;
    await buildFailure(build(f.request(f.plan(), { onError: "keep", onKept: (a, r) => ((access = a.description), (release = r)) }), f.deps(fakes)));
    assert.match(access, /fake VM rebake-demo-/);
    assert.deepEqual(fakes.destroyed, []);
    assert.ok((await readdir(join(f.cacheDir, "layers"))).includes(`${f.plan().steps[1]!.hash}.qcow2`), "the VM's disk stays");
    // Once the user is done: the VM, its uncommitted layer and the work dir go.
    await release!();
    await assertNothingLeft(f, fakes, 1);
  }));

test("an upload that arrives with another sha256 fails the step", () =>
  withFixture(async (f) => {
    const fakes = createFakes({ uploadSha256: () => "0".repeat(64) });
    const error = await buildFailure(build(f.request(f.plan()), f.deps(fakes)));
    assert.ok(error instanceof UploadChecksumError);
    assert.match(error.message, /step 02-app-a: app-a arrived in the guest with sha256 0{64}, expected [a-f0-9]{64}/);
  }));

test("a full cache disk while freezing a layer fails clearly and commits nothing", () =>
  withFixture(async (f) => {
    const plan = f.plan();
    const full = Object.assign(new Error("qemu-img: Could not create: No space left on device"), { code: "ENOSPC" });
    const fakes = createFakes({ checkpointError: (next) => (next.includes(plan.steps[2]!.hash) ? full : undefined) });
    const error = await buildFailure(build(f.request(plan), f.deps(fakes)));
    assert.ok(error instanceof CacheFullError);
    assert.ok(error.message.includes(join(f.cacheDir, "layers")), error.message);
    assert.match(error.message, /freezing the layer of step 02-app-a.*rebake cache prune/s);
    await assertNothingLeft(f, fakes, 1);
  }));

test("a command that reboots the guest itself is waited out when the step may reboot", () =>
  withFixture(async (f) => {
    const fakes = createFakes({ exec: (script) => (script === "install-b" ? { disconnect: true } : undefined) });
    await build(f.request(f.plan()), f.deps(fakes));
    const after = fakes.journal.slice(fakes.journal.indexOf("guest.exec install-b"));
    assert.equal(after[1], "guest.waitReady");
  }));
