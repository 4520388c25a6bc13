import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chooseAccel, InvalidAccelError, probeKvm } from "../../src/hypervisors/qemu/kvm-probe.ts";
import { createFakeSpawn, type FakeChild } from "./fake-spawn.ts";

describe("probeKvm", () => {
  const cases: { name: string; script: (child: FakeChild) => void; accel: "kvm" | "tcg"; reason: RegExp; killed: boolean }[] = [
    {
      name: "chooses KVM when SeaBIOS finishes POST and kills the probe VM",
      script: (child) => child.stdout.write("SeaBIOS (version 1.16)\nNo bootable device.\n"),
      accel: "kvm",
      reason: /SeaBIOS POST/,
      killed: true,
    },
    {
      name: "falls back to TCG when KVM hangs, killing the hung process with SIGKILL",
      script: () => {},
      accel: "tcg",
      reason: /did not finish a SeaBIOS POST within 100 ms/,
      killed: true,
    },
    {
      name: "falls back to TCG when qemu refuses KVM",
      script: (child) => {
        child.stderr.write("Could not access KVM kernel module: No such file or directory\n");
        setTimeout(() => child.exit(1), 10);
      },
      accel: "tcg",
      reason: /exited with 1: Could not access KVM kernel module/,
      killed: false,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const spawn = createFakeSpawn(c.script);
      const choice = await probeKvm({ spawn, timeoutMs: 100 });
      assert.equal(choice.accel, c.accel);
      assert.match(choice.reason, c.reason);
      const child = spawn.children[0];
      assert.ok(child);
      assert.deepEqual(child.args.slice(0, 2), ["-accel", "kvm"]);
      assert.deepEqual(child.signals, c.killed ? ["SIGKILL"] : []);
    });
  }
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
    const spawn = createFakeSpawn((child) => child.stdout.write("No bootable device."));
    const options = { env: {}, spawn, qemuBinary: "/fake/qemu-cache-test" };
    const first = await chooseAccel(options);
    assert.deepEqual(await chooseAccel(options), first);
    assert.equal(spawn.children.length, 1);
  });
});
