/**
 * The watchdog and the install proof against a real VM (QEMU under TCG, the rebake test OS):
 * a qemu killed mid-install fails the step at once and commits nothing; a committed layer that
 * no longer boots is evicted and the build recovers from the layer below it; a guest paused over
 * QMP mid-install fails as stalled, with its console tail. The builds run the CLI as users do.
 * They pin TCG: what is tested here is how rebake reacts to a VM, whatever runs it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { BuildManifest } from "../../src/manifest/model.ts";
import type { BuildEvent } from "../../src/runner/events.ts";
import { placeTestOsIso } from "../support/testos-iso.ts";
import { runCliJson, type CliRun } from "../support/cli-child.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** Each build here is bounded; a stalled one fails with its console tail well before this. */
const BUILD_BOUND_MS = 6 * 60_000;
/** Short, for the test OS: it prints or writes something every second while it installs. */
const STALL = "20s";

/** `rebake build --json` as a child process; `onEvent` may act on the VM while it runs. */
function rebake(dir: string, args: readonly string[], onEvent: (event: BuildEvent) => void = () => {}): Promise<CliRun> {
  return runCliJson(["build", "recipes/linux-demo.yaml", "--json", ...args], {
    cwd: dir,
    env: { ...process.env, REBAKE_CACHE_DIR: join(dir, "cache"), TMPDIR: dir, REBAKE_ACCEL: "tcg" },
    boundMs: BUILD_BOUND_MS,
    onEvent,
  });
}

const consoleLines = (events: readonly BuildEvent[], step: string) => events.filter((e): e is Extract<BuildEvent, { type: "console" }> => e.type === "console" && e.step === step);
const stepEnd = (events: readonly BuildEvent[], step: string) => events.find((e): e is Extract<BuildEvent, { type: "step-end" }> => e.type === "step-end" && e.step === step);
const committed = async (dir: string) => (await readdir(join(dir, "cache/layers")).catch(() => [] as string[])).filter((n) => n.endsWith(".json"));

/** The qemu processes whose command line names this build. */
function qemuPids(buildId: string): number[] {
  return execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes("qemu-system") && l.includes(buildId))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** The QMP socket of the one VM running under `dir` (the VM runtime dir lives in TMPDIR). */
async function qmpSocket(dir: string): Promise<string> {
  for (const runtime of (await readdir(dir)).filter((n) => n.startsWith("rebake-vm-"))) {
    for (const vm of await readdir(join(dir, runtime), { withFileTypes: true })) {
      // rebake holds qmp.sock; the operator's monitor is free.
      const socket = join(dir, runtime, vm.name, "qmp-operator.sock");
      if (vm.isDirectory() && existsSync(socket)) return socket;
    }
  }
  throw new Error(`no QMP socket under ${dir}`);
}

/** Pauses the guest's vCPUs over QMP, as an operator (or a stuck host) would. */
async function pauseGuest(socketPath: string): Promise<void> {
  const socket = connect(socketPath);
  const lines = createInterface({ input: socket });
  const replies: string[] = [];
  lines.on("line", (line) => replies.push(line));
  const until = async (pattern: RegExp) => {
    for (let i = 0; i < 200 && !replies.some((r) => pattern.test(r)); i++) await new Promise((r) => setTimeout(r, 25));
  };
  await until(/"QMP"/);
  socket.write(`${JSON.stringify({ execute: "qmp_capabilities" })}\n`);
  await until(/"return"/);
  socket.write(`${JSON.stringify({ execute: "stop" })}\n`);
  await until(/"event": ?"STOP"/);
  socket.end();
}

test("a VM that dies or stalls is never taken for a finished step; a bad cached layer is evicted", { timeout: 4 * BUILD_BOUND_MS }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "rebake-watchdog-"));
  try {
    await cp(join(root, "recipes/linux-demo.yaml"), join(dir, "recipes/linux-demo.yaml"));
    await cp(join(root, "apps"), join(dir, "apps"), { recursive: true });
    await placeTestOsIso(dir);

    await t.test("killing qemu mid-install fails the step at once, commits nothing, and the next build installs afresh", async () => {
      let buildId = "";
      let killed = false;
      const run = await rebake(dir, ["--out", "out-killed", "--no-verify", "--stall-timeout", STALL], (event) => {
        if (event.type === "build-start") buildId = event.buildId;
        // The installer is writing the disk once its console says so: kill it as an OOM kill would.
        if (!killed && event.type === "console" && /rebake-testos: (install medium|partitioning|formatting|unpacking)/.test(event.line)) {
          killed = true;
          for (const pid of qemuPids(buildId)) process.kill(pid, "SIGKILL");
        }
      });
      assert.ok(killed, `the install never got going:\n${run.stderr}`);
      assert.equal(run.code, 1, run.stderr);
      const end = stepEnd(run.events, "01-os-install");
      assert.equal(end?.status, "failed");
      assert.match(end?.error ?? "", /^step 01-os-install failed: the VM stopped while the step needed it: qemu for VM rebake-linux-demo-\S+ was killed by SIGKILL/);
      assert.match(run.stderr, /\| rebake-testos: /, "the error shows the console tail");
      assert.deepEqual(await committed(dir), [], "no layer was committed for the dead install");

      const next = await rebake(dir, ["--out", "out", "--no-verify", "--stall-timeout", STALL]);
      assert.equal(next.code, 0, next.stderr);
      const manifest = JSON.parse(await readFile(join(dir, "out/manifest.json"), "utf8")) as BuildManifest;
      assert.equal(manifest.steps.find((s) => s.id === "01-os-install")?.status, "ok", "installed afresh, not resumed");
      assert.match(await readFile(join(dir, "out/logs/01-os-install.log"), "utf8"), /the installer reported success: REBAKE-INSTALL: OK rebake-/);
      assert.ok(consoleLines(next.events, "01-os-install").some((e) => /REBAKE-TESTOS-INSTALL: OK/.test(e.line)), "the console reached the progress events");
    });

    await t.test("a committed layer that no longer boots is evicted, and the build recovers from the layer below it", async () => {
      const before = JSON.parse(await readFile(join(dir, "out/manifest.json"), "utf8")) as BuildManifest;
      const steps = before.steps.filter((s) => s.hash);
      const motd = steps.findIndex((s) => s.id.includes("demo-motd"));
      const broken = steps[motd - 1]!;
      // Its boot sector zeroed and its saved memory gone: the layer is committed, and cannot boot.
      const layer = join(dir, "cache/layers", `${broken.hash}.qcow2`);
      execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -z 0 512", layer]);
      await unlink(join(dir, "cache/layers", `${broken.hash}.vmstate`)).catch(() => undefined);
      // Change only the last app, so the rebuild starts on the broken layer.
      const app = join(dir, "apps/demo-motd.yaml");
      await writeFile(app, (await readFile(app, "utf8")).replace('install.sh"\n', 'install.sh" && echo rebuilt >/dev/null\n'));

      const run = await rebake(dir, ["--out", "out-evicted", "--no-verify", "--stall-timeout", STALL]);
      assert.equal(run.code, 0, run.stderr);
      const notes = run.events.flatMap((e) => (e.type === "log" ? [e.message] : []));
      assert.ok(
        notes.some((m) => m.startsWith(`the cached layer of step ${broken.id} did not boot to a guest agent (`) && m.endsWith("it was evicted from the layer cache; building again from the layer below it")),
        notes.join("\n"),
      );
      const manifest = JSON.parse(await readFile(join(dir, "out-evicted/manifest.json"), "utf8")) as BuildManifest;
      assert.equal(manifest.steps.find((s) => s.id === broken.id)?.status, "ok", "the evicted step ran again");
      assert.ok(!manifest.steps.filter((s) => s.hash).some((s) => s.status !== "ok" && s.status !== "cached"));
    });

    await t.test("a guest paused over QMP mid-install fails as stalled, with the console tail", async () => {
      let paused = false;
      let pausing: Promise<void> = Promise.resolve();
      let buildId = "";
      const run = await rebake(dir, ["--out", "out-paused", "--no-cache", "--no-verify", "--stall-timeout", STALL], (event) => {
        if (event.type === "build-start") buildId = event.buildId;
        if (!paused && event.type === "console" && /rebake-testos: /.test(event.line)) {
          paused = true;
          pausing = qmpSocket(dir).then(pauseGuest);
        }
      });
      await pausing;
      assert.ok(paused, `the install never got going:\n${run.stderr}`);
      assert.equal(run.code, 1, run.stderr);
      const end = stepEnd(run.events, "01-os-install");
      assert.match(end?.error ?? "", /^step 01-os-install stalled during the unattended OS install: under tcg, the VM printed nothing, wrote nothing to its disk and used no CPU for 20 s/);
      assert.match(run.stderr, /last 20 console lines:\n(.*\n)*.*\| rebake-testos: /);
      assert.deepEqual(qemuPids(buildId), [], "the paused VM was destroyed");
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
