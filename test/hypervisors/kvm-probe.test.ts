import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chooseAccel, InvalidAccelError, PROBE_MARKER, probeKvm } from "../../src/hypervisors/qemu/kvm-probe.ts";
import { createFakeSpawn, type FakeChild } from "./fake-spawn.ts";

const PAYLOAD = { kernel: "/probe/vmlinuz", initrd: "/probe/init.cpio.gz" };
const accelOf = (child: FakeChild) => child.args[child.args.indexOf("-accel") + 1];

/** A clock the fake QEMUs move: each says how far into its boot it printed what it printed. */
function fakeClock() {
  const clock = { t: 0 };
  return { clock, now: () => clock.t };
}

describe("probeKvm proves a 64-bit kernel reaches user space", () => {
  const cases: {
    name: string;
    kvm: (child: FakeChild, clock: { t: number }) => void;
    tcg?: (child: FakeChild, clock: { t: number }) => void;
    accel: "kvm" | "tcg";
    reason: RegExp;
    tcgBooted: boolean;
  }[] = [
    {
      name: "chooses KVM when its kernel reaches user space and TCG does not get there as fast",
      kvm: (child, clock) => {
        clock.t += 400;
        child.stdout.write(`Linux version 6.1.0\n${PROBE_MARKER} x86_64 user space\n`);
      },
      tcg: (child) => child.stdout.write("Decompressing Linux... "),
      accel: "kvm",
      reason: /KVM booted a 64-bit kernel to user space in 0\.4 s \(TCG did not within that time\); using KVM/,
      tcgBooted: true,
    },
    {
      name: "chooses TCG when SeaBIOS POSTs under KVM but the kernel stalls after real mode, quoting the console",
      kvm: (child) => child.stdout.write("SeaBIOS (version 1.16)\nBooting from ROM...\nProbing EDD (edd=off to disable)... ok\n"),
      accel: "tcg",
      reason: /KVM did not boot a 64-bit kernel to user space within 0\.1 s \(last console lines: .*"Probing EDD \(edd=off to disable\)\.\.\. ok"\); using TCG/,
      tcgBooted: false,
    },
    {
      name: "chooses TCG when KVM prints nothing at all (it hangs at once)",
      kvm: () => {},
      accel: "tcg",
      reason: /within 0\.1 s \(no console output at all\)/,
      tcgBooted: false,
    },
    {
      name: "chooses TCG when TCG reaches user space as fast as KVM",
      kvm: (child, clock) => {
        clock.t += 3000;
        child.stdout.write(`${PROBE_MARKER} x86_64 user space\n`);
      },
      tcg: (child, clock) => {
        clock.t += 2500;
        child.stdout.write(`${PROBE_MARKER} x86_64 user space\n`);
      },
      accel: "tcg",
      reason: /KVM booted a 64-bit kernel to user space in 3\.0 s, but TCG as fast \(2\.5 s\); using TCG/,
      tcgBooted: true,
    },
    {
      name: "does not count a 32-bit user space as proof",
      kvm: (child) => child.stdout.write(`${PROBE_MARKER} i686 user space\n`),
      accel: "tcg",
      reason: /did not boot a 64-bit kernel/,
      tcgBooted: false,
    },
    {
      name: "chooses TCG when qemu refuses KVM",
      kvm: (child) => {
        child.stderr.write("Could not access KVM kernel module: No such file or directory\n");
        setTimeout(() => child.exit(1), 5);
      },
      accel: "tcg",
      reason: /KVM is not usable \(.*exited with 1: Could not access KVM kernel module/,
      tcgBooted: false,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { clock, now } = fakeClock();
      const spawn = createFakeSpawn((child) => (accelOf(child) === "kvm" ? c.kvm(child, clock) : c.tcg?.(child, clock)));
      const choice = await probeKvm({ spawn, payload: PAYLOAD, kvmBoundMs: 100, now });
      assert.equal(choice.accel, c.accel);
      assert.match(choice.reason, c.reason);
      assert.notEqual(choice.conclusive, false);
      const [kvm, tcg] = spawn.children;
      assert.ok(kvm);
      assert.equal(accelOf(kvm), "kvm");
      // The payload is booted as a kernel, with its console on the serial port.
      for (const arg of ["-kernel", PAYLOAD.kernel, "-initrd", PAYLOAD.initrd, "-no-reboot", "-serial", "stdio"]) assert.ok(kvm.args.includes(arg), `missing ${arg} in ${kvm.args.join(" ")}`);
      assert.equal(spawn.children.length, c.tcgBooted ? 2 : 1);
      if (c.tcgBooted) assert.equal(accelOf(tcg!), "tcg");
      // No probe VM is left running: each is killed once its outcome is known.
      for (const child of spawn.children) assert.ok(child.signals.includes("SIGKILL") || child.signals.length === 0);
    });
  }

  it("without a kernel to boot it chooses TCG, starts nothing and says the answer is not proven", async () => {
    const spawn = createFakeSpawn();
    const choice = await probeKvm({ spawn, payload: null });
    assert.equal(choice.accel, "tcg");
    assert.equal(choice.conclusive, false);
    assert.match(choice.reason, /no kernel to prove KVM with .*run scripts\/build-testos\.sh/);
    assert.equal(spawn.children.length, 0);
  });
});

describe("chooseAccel", () => {
  const overrides = [
    { env: { REBAKE_ACCEL: "tcg" }, accel: "tcg" },
    { env: { REBAKE_ACCEL: "kvm" }, accel: "kvm" },
  ] as const;
  for (const o of overrides) {
    it(`takes REBAKE_ACCEL=${o.env.REBAKE_ACCEL} without probing`, async () => {
      const spawn = createFakeSpawn();
      assert.deepEqual(await chooseAccel({ env: o.env, spawn }), { accel: o.accel, reason: `REBAKE_ACCEL=${o.accel}` });
      assert.equal(spawn.children.length, 0);
    });
  }

  it("rejects an unknown REBAKE_ACCEL naming the value and the fix", async () => {
    await assert.rejects(chooseAccel({ env: { REBAKE_ACCEL: "hvf" } }), (error: Error) => error instanceof InvalidAccelError && /got: "hvf"; unset it/.test(error.message));
  });

  it("probes once per binary and caches the answer", async () => {
    const spawn = createFakeSpawn((child) => child.stdout.write(accelOf(child) === "kvm" ? `${PROBE_MARKER} x86_64\n` : ""));
    const options = { env: {}, spawn, payload: PAYLOAD, kvmBoundMs: 100, qemuBinary: "/fake/qemu-cache-test" };
    const first = await chooseAccel(options);
    assert.deepEqual(await chooseAccel(options), first);
    assert.equal(spawn.children.length, 2, "one KVM boot and one TCG boot, once");
  });
});
