import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { VmStoppedError, type VmActivity, type VmMonitor, type VmStop } from "../../src/hypervisors/driver.ts";
import { GuestStallError, VmDiedError } from "../../src/runner/errors.ts";
import { VmWatch, type WatchTimers } from "../../src/runner/vm-watch.ts";

const INTERVAL = 1_000;
const WINDOW = 10_000;

/**
 * A scripted VM: `tick(t)` says what its counters and console are at time t (ms since the watch
 * began). Time only moves when the watch sleeps, so nothing here waits for real time.
 */
function scriptedVm(script: (t: number) => { activity?: Partial<VmActivity>; console?: string; stop?: VmStop }) {
  let t = 0;
  let console = "";
  let activity: VmActivity = { consoleBytes: 0, diskWrittenBytes: 0, cpuMs: 0 };
  let resolveStop!: (stop: VmStop) => void;
  const stopped = new Promise<VmStop>((resolve) => (resolveStop = resolve));
  const advance = () => {
    const now = script(t);
    if (now.console) console += now.console;
    activity = { ...activity, ...now.activity, consoleBytes: Buffer.byteLength(console, "latin1") };
    if (now.stop) resolveStop(now.stop);
  };
  advance();
  const monitor: VmMonitor = {
    accelerator: "kvm",
    stopped,
    activity: async () => activity,
    readConsole: async (offset) => ({ text: console.slice(offset), offset: console.length }),
  };
  const timers: WatchTimers = {
    now: () => t,
    sleep: async (ms, signal) => {
      if (signal.aborted) throw signal.reason;
      await new Promise((resolve) => setImmediate(resolve));
      t += ms;
      advance();
    },
  };
  return { monitor, timers, now: () => t };
}

/** Work that only ends when its signal aborts: a wait for something that never comes. */
const never = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));

describe("VmWatch", () => {
  const stalls: { name: string; script: (t: number) => { activity?: Partial<VmActivity>; console?: string }; firesAt: number; written: number }[] = [
    {
      name: "fails a wait whose console, disk and CPU all stop, after the stall window, with the console tail",
      script: (t) => (t <= 3000 ? { console: `line ${t}\n`, activity: { cpuMs: t, diskWrittenBytes: t * 10 } } : {}),
      firesAt: 13_000,
      written: 30_000,
    },
    {
      name: "treats a VM that never printed, wrote or computed anything as stalled (KVM stuck in real mode)",
      script: () => ({}),
      firesAt: 10_000,
      written: 0,
    },
    {
      name: "does not count an idle QEMU's timer ticks as progress",
      // 1% of the wall time: below the share that counts.
      script: (t) => ({ activity: { cpuMs: t / 100 } }),
      firesAt: 10_000,
      written: 0,
    },
  ];
  for (const c of stalls) {
    it(c.name, async () => {
      const vm = scriptedVm(c.script);
      const lines: string[] = [];
      const watch = new VmWatch({ monitor: vm.monitor, timers: vm.timers, stallWindowMs: WINDOW, intervalMs: INTERVAL, onLine: (l) => lines.push(l) });
      const error = await watch.guard("01-os-install", new AbortController().signal, never, { waitingFor: "the unattended OS install" }).then(
        () => assert.fail("the stalled wait succeeded"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof GuestStallError, String(error));
      assert.equal(error.stepId, "01-os-install");
      assert.equal(error.accelerator, "kvm");
      assert.equal(vm.now(), c.firesAt);
      assert.equal(error.stalledMs, WINDOW);
      assert.equal(error.diskWrittenBytes, c.written);
      assert.match(error.message, /step 01-os-install stalled during the unattended OS install: under kvm, .* for 10 s/);
      if (c.written > 0) {
        assert.deepEqual(error.console.at(-1), "line 3000");
        assert.match(error.message, /\| line 3000/);
        assert.equal(lines.length, 4);
      } else {
        assert.match(error.message, /the guest wrote nothing to its console/);
      }
    });
  }

  it("never fires while the guest keeps doing something, however long the wait", async () => {
    const vm = scriptedVm((t) => ({ activity: { diskWrittenBytes: t } }));
    const watch = new VmWatch({ monitor: vm.monitor, timers: vm.timers, stallWindowMs: WINDOW, intervalMs: INTERVAL });
    let done = false;
    const work = async (signal: AbortSignal) => {
      while (vm.now() < 60_000) await vm.timers.sleep(0, signal);
      done = true;
      return "installed";
    };
    assert.equal(await watch.guard("01-os-install", new AbortController().signal, work, { waitingFor: "the install" }), "installed");
    assert.ok(done);
  });

  it("without a stall window, lets a quiet command run", async () => {
    const vm = scriptedVm(() => ({}));
    const watch = new VmWatch({ monitor: vm.monitor, timers: vm.timers, stallWindowMs: WINDOW, intervalMs: INTERVAL });
    const work = async (signal: AbortSignal) => {
      while (vm.now() < 5 * WINDOW) await vm.timers.sleep(INTERVAL, signal);
      return 0;
    };
    assert.equal(await watch.guard("03-app", new AbortController().signal, work), 0);
  });

  const deaths: { name: string; stop: VmStop; powerOffExpected: boolean; dies: boolean }[] = [
    { name: "fails at once when the VM is killed", stop: { requestedByGuest: false, requestedByDriver: false, description: "qemu for VM x was killed by SIGKILL" }, powerOffExpected: true, dies: true },
    { name: "fails at once when the guest powers off where nothing expected it", stop: { requestedByGuest: true, requestedByDriver: false, description: "the guest powered off (guest-shutdown)" }, powerOffExpected: false, dies: true },
    { name: "lets a wait end when the guest powers off as expected", stop: { requestedByGuest: true, requestedByDriver: false, description: "the guest powered off (guest-shutdown)" }, powerOffExpected: true, dies: false },
  ];
  for (const c of deaths) {
    it(c.name, async () => {
      const vm = scriptedVm((t) => (t === 2000 ? { console: "Kernel panic? no, just killed\n", stop: c.stop } : t < 2000 ? { activity: { cpuMs: t } } : {}));
      const watch = new VmWatch({ monitor: vm.monitor, timers: vm.timers, stallWindowMs: WINDOW, intervalMs: INTERVAL });
      // A wait that ends on its own soon after the VM stopped, as waitPoweredOff does.
      const work = async (signal: AbortSignal) => {
        while (vm.now() < 5000) await vm.timers.sleep(0, signal);
        return "powered off";
      };
      const outcome = await watch.guard("01-os-install", new AbortController().signal, work, { waitingFor: "the install", powerOffExpected: c.powerOffExpected }).then(
        (v) => v,
        (e: unknown) => e,
      );
      if (!c.dies) {
        assert.equal(outcome, "powered off");
        return;
      }
      assert.ok(outcome instanceof VmDiedError, String(outcome));
      assert.ok(vm.now() < 5000, "the death was noticed only when the work ended");
      assert.match(outcome.message, new RegExp(`step 01-os-install failed: the VM stopped while the step needed it: ${c.stop.description.replace(/[()]/g, "\\$&")}`));
      assert.match(outcome.message, /\| Kernel panic\? no, just killed/);
    });
  }

  it("tells a VM stop the driver saw first as the step's failure, with the console", async () => {
    const vm = scriptedVm((t) => (t === 0 ? { console: "installing\n" } : {}));
    const watch = new VmWatch({ monitor: vm.monitor, timers: vm.timers, stallWindowMs: WINDOW, intervalMs: INTERVAL });
    const stop: VmStop = { requestedByGuest: false, requestedByDriver: false, description: "qemu for VM x was killed by SIGKILL" };
    const error = await watch.guard("01-os-install", new AbortController().signal, async () => Promise.reject(new VmStoppedError("x", stop))).then(
      () => assert.fail("succeeded"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof VmDiedError, String(error));
    assert.match(error.message, /^step 01-os-install failed: the VM stopped while the step needed it: qemu for VM x was killed by SIGKILL; last 20 console lines:\n {2}\| installing/);
  });

  it("keeps the step's error when the build is interrupted, and finds marker lines in the console", async () => {
    const vm = scriptedVm((t) => (t === 1000 ? { console: "\x1b[1mREBAKE-INSTALL: OK rebake-b1\x1b[0m\n" } : {}));
    const watch = new VmWatch({ monitor: vm.monitor, timers: vm.timers, stallWindowMs: WINDOW, intervalMs: INTERVAL });
    const build = new AbortController();
    const work = async (signal: AbortSignal) => {
      while (vm.now() < 3000) await vm.timers.sleep(0, signal);
      build.abort(new Error("SIGINT"));
      return never(signal);
    };
    await assert.rejects(watch.guard("01-os-install", build.signal, work, { waitingFor: "the install" }), /SIGINT/);
    // Escape sequences are stripped before lines are matched or shown.
    assert.equal(await watch.findLine(/^REBAKE-INSTALL: OK rebake-b1$/), "REBAKE-INSTALL: OK rebake-b1");
    assert.equal(await watch.findLine(/^REBAKE-INSTALL: FAILED/), undefined);
  });
});
