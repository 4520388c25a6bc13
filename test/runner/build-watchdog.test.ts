/**
 * The build under its watchdog, with a scripted VM per power on: what its console says, whether
 * it makes progress, how it stops. Time is the watchdog's injected clock, so stall windows pass
 * without waiting.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { HypervisorDriver, VmStop } from "../../src/hypervisors/driver.ts";
import { build } from "../../src/runner/build.ts";
import { GuestStallError, InstallNotProvenError, VmDiedError } from "../../src/runner/errors.ts";
import type { WatchTimers } from "../../src/runner/vm-watch.ts";
import { buildFailure, createFakes, withFixture, type FakeOptions, type Fixture } from "./helpers/build-fixture.ts";

const BUILD_ID = "b1";
const INSTALLED = `REBAKE-INSTALL: OK rebake-${BUILD_ID}`;
const STALL_WINDOW_MS = 60_000;

/** One power on of the VM, as the test scripts it. */
interface Run {
  readonly accelerator?: string;
  /** What the console shows during this run. */
  readonly console?: string;
  /** The guest makes progress (CPU time grows with the clock). @default true */
  readonly moving?: boolean;
  /** The VM's process is killed right after it starts. */
  readonly killed?: boolean;
  /** The guest never gets anywhere: the installer never powers off, the agent never answers. */
  readonly hangs?: boolean;
}

const untilAborted = (signal?: AbortSignal) => new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason), { once: true }));

const KILLED: VmStop = { requestedByGuest: false, requestedByDriver: false, description: "qemu for VM demo was killed by SIGKILL" };
const GUEST_OFF: VmStop = { requestedByGuest: true, requestedByDriver: false, description: "the guest powered off (guest-shutdown)" };
const DRIVER_OFF: VmStop = { requestedByGuest: false, requestedByDriver: true, description: "powered off by the driver" };

function scriptedVms(runs: (n: number) => Run, fakeOptions: FakeOptions = {}) {
  const fakes = createFakes(fakeOptions);
  const base = fakes.driver;
  const distrusted: string[] = [];
  let t = 0;
  let count = 0;
  let current: { run: Run; stopped: Promise<VmStop>; stop: (s: VmStop) => void } | undefined;
  const timers: WatchTimers = {
    now: () => t,
    sleep: async (ms, signal) => {
      signal.throwIfAborted();
      await new Promise((resolve) => setImmediate(resolve));
      t += ms;
    },
  };
  const driver: HypervisorDriver = {
    ...base,
    async powerOn(vm) {
      await base.powerOn(vm);
      const run = runs(++count);
      let stop!: (s: VmStop) => void;
      const stopped = new Promise<VmStop>((resolve) => (stop = resolve));
      current = { run, stopped, stop };
      if (run.killed) setImmediate(() => stop(KILLED));
    },
    async waitPoweredOff(vm, timeoutMs, signal) {
      await base.waitPoweredOff(vm, timeoutMs, signal);
      if (current?.run.hangs) await untilAborted(signal);
      current?.stop(GUEST_OFF);
    },
    guest(vm) {
      const channel = base.guest(vm);
      return {
        ...channel,
        waitReady: async (timeoutMs, signal) => {
          await channel.waitReady(timeoutMs, signal);
          if (current?.run.hangs) await untilAborted(signal);
        },
      };
    },
    async powerOff(vm) {
      await base.powerOff(vm);
      current?.stop(DRIVER_OFF);
    },
    monitor() {
      if (!current) return undefined;
      const { run, stopped } = current;
      const text = run.console ?? "";
      return {
        accelerator: run.accelerator ?? "tcg",
        stopped,
        activity: async () => ({ consoleBytes: text.length, diskWrittenBytes: 0, cpuMs: run.moving === false ? 0 : t }),
        readConsole: async (offset: number) => ({ text: text.slice(offset), offset: text.length }),
      };
    },
    async distrustAccelerator(reason) {
      distrusted.push(reason);
      return "tcg";
    },
  };
  return { fakes: { ...fakes, driver }, distrusted, timers, powerOns: () => count };
}

const committedLayers = async (f: Fixture) => (await readdir(join(f.cacheDir, "layers")).catch(() => [] as string[])).filter((n) => n.endsWith(".json")).length;

const unproven: { name: string; console: string; message: RegExp }[] = [
  {
    name: "an installer that powers off without reporting success fails the install and commits nothing",
    console: "Installing...\nwriting the disk\n",
    message: /the installer powered the VM off without reporting success \(its console never printed "REBAKE-INSTALL: OK rebake-b1"\); nothing was kept;[\s\S]*\| writing the disk/,
  },
  {
    name: "an installer that reports a failure fails the install with its reason",
    console: "REBAKE-INSTALL: FAILED: no target disk /dev/vda\n",
    message: /the installer reported a failure: no target disk \/dev\/vda/,
  },
  {
    name: "a report for another build does not count",
    console: "REBAKE-INSTALL: OK rebake-b0\n",
    message: /never printed "REBAKE-INSTALL: OK rebake-b1"/,
  },
];
for (const c of unproven) {
  test(c.name, () =>
    withFixture(async (f) => {
      const vms = scriptedVms(() => ({ console: c.console }));
      const error = await buildFailure(build(f.request(f.plan(), { buildId: BUILD_ID }), { ...f.deps(vms.fakes), watchTimers: vms.timers }));
      assert.ok(error instanceof InstallNotProvenError, String(error));
      assert.match(error.message, /^step 01-os failed: /);
      assert.match(error.message, c.message);
      assert.equal(await committedLayers(f), 0);
      assert.deepEqual(await readdir(f.tempRoot), []);
    }),
  );
}

test("a VM killed during the install fails the step at once, commits nothing, and the next build installs afresh", () =>
  withFixture(async (f) => {
    const killed = scriptedVms(() => ({ killed: true, console: "Installing...\n" }), { installHangs: true });
    const error = await buildFailure(build(f.request(f.plan(), { buildId: BUILD_ID }), { ...f.deps(killed.fakes), watchTimers: killed.timers }));
    assert.ok(error instanceof VmDiedError, String(error));
    assert.match(error.message, /step 01-os failed: the VM stopped while the step needed it: qemu for VM demo was killed by SIGKILL; .*\n {2}\| Installing\.\.\./);
    assert.equal(await committedLayers(f), 0);

    const next = scriptedVms(() => ({ console: `${INSTALLED}\n` }));
    const { manifest } = await build(f.request(f.plan(), { buildId: BUILD_ID }), { ...f.deps(next.fakes), watchTimers: next.timers });
    assert.equal(manifest.steps.find((s) => s.id === "01-os")?.status, "ok");
    assert.ok(next.fakes.journal.includes("attachMedia install,answers"), "the next build installs from the ISO");
  }));

test("a committed layer whose guest never comes back is evicted, and the build resumes from the layer below it", () =>
  withFixture(async (f) => {
    const first = scriptedVms(() => ({ console: `${INSTALLED}\n` }));
    await build(f.request(f.plan(), { buildId: BUILD_ID }), { ...f.deps(first.fakes), watchTimers: first.timers });
    assert.equal(await committedLayers(f), 4);

    // The rebuild resumes from the layer of 02-app-a; that VM prints nothing and never moves.
    const changed = f.plan({ lastApp: "install-b --newer" });
    const rebuild = scriptedVms((n) => (n === 1 ? { moving: false, hangs: true } : { console: "booted\n" }));
    const request = f.request(changed, { buildId: BUILD_ID, stallWindowMs: STALL_WINDOW_MS });
    const { manifest } = await build(request, { ...f.deps(rebuild.fakes), watchTimers: rebuild.timers });
    const notes = request.events.flatMap((e) => (e.type === "log" ? [e.message] : []));
    assert.ok(
      notes.some((m) => /^the cached layer of step 02-app-a did not boot to a guest agent \(step 03-app-b stalled during the boot until the guest agent answers.*\); it was evicted from the layer cache; building again from the layer below it$/.test(m)),
      notes.join("\n"),
    );
    // The second attempt started on the layer of 01-os and rebuilt 02-app-a.
    assert.equal(rebuild.fakes.specs[1]?.disk.baseLayer, join(f.cacheDir, "layers", `${changed.steps[0]!.hash}.qcow2`));
    assert.deepEqual(
      manifest.steps.filter((s) => s.hash).map((s) => [s.id, s.status]),
      [["01-os", "cached"], ["02-app-a", "ok"], ["03-app-b", "ok"], ["04-seal", "ok"]],
    );
  }));

test("a boot that stalls under KVM before writing anything is rebuilt once under TCG, loudly", () =>
  withFixture(async (f) => {
    const vms = scriptedVms((n) => (n === 1 ? { accelerator: "kvm", moving: false, hangs: true } : { accelerator: "tcg", console: `${INSTALLED}\n` }));
    const request = f.request(f.plan(), { buildId: BUILD_ID, stallWindowMs: STALL_WINDOW_MS });
    const { manifest } = await build(request, { ...f.deps(vms.fakes), watchTimers: vms.timers });
    assert.equal(manifest.steps.find((s) => s.id === "01-os")?.status, "ok");
    assert.equal(vms.distrusted.length, 1);
    assert.match(vms.distrusted[0]!, /KVM stalled a real boot here \(step 01-os, the unattended OS install: nothing moved for 60 s and nothing was written to the disk\)/);
    const notes = request.events.flatMap((e) => (e.type === "log" ? [e.message] : []));
    assert.ok(notes.some((m) => /^WARNING: KVM stalled a real boot here .* Rebuilding once under TCG; this host will use TCG from now on/.test(m)), notes.join("\n"));
  }));

const noRetry: { name: string; run: Run }[] = [
  { name: "a stall under TCG fails the build with the console tail, without a retry", run: { accelerator: "tcg", moving: false, hangs: true, console: "Loading initrd\n" } },
  { name: "a KVM stall after the guest wrote to its disk is not blamed on KVM", run: { accelerator: "kvm", moving: false, hangs: true, console: "Loading initrd\n" } },
];
for (const c of noRetry) {
  test(c.name, () =>
    withFixture(async (f) => {
      const vms = scriptedVms(() => c.run);
      // The KVM case: the guest wrote before it stalled.
      const driver = vms.fakes.driver;
      const monitor = driver.monitor!.bind(driver);
      const wrote: HypervisorDriver = {
        ...driver,
        monitor: (vm) => {
          const m = monitor(vm);
          // Under KVM the guest writes 4 KiB in its first seconds, then nothing moves.
          return m && { ...m, activity: async () => ({ ...(await m.activity()), diskWrittenBytes: c.run.accelerator === "kvm" ? Math.min(vms.timers.now(), 4096) : 0 }) };
        },
      };
      const error = await buildFailure(build(f.request(f.plan(), { buildId: BUILD_ID, stallWindowMs: STALL_WINDOW_MS }), { ...f.deps({ ...vms.fakes, driver: wrote }), watchTimers: vms.timers }));
      assert.ok(error instanceof GuestStallError, String(error));
      assert.match(error.message, /step 01-os stalled during the unattended OS install: under (kvm|tcg), the VM printed nothing, wrote nothing to its disk and used no CPU for 60 s; last 20 console lines:\n {2}\| Loading initrd/);
      assert.equal(vms.distrusted.length, 0);
      assert.equal(vms.powerOns(), 1);
      assert.equal(await committedLayers(f), 0);
    }),
  );
}
