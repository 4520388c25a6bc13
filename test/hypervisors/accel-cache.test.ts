import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { accelCacheFile, cachedAccelChoice } from "../../src/hypervisors/qemu/accel-cache.ts";
import type { AccelChoice } from "../../src/hypervisors/qemu/kvm-probe.ts";

const QEMU = "QEMU emulator version 7.2.22";
const TCG: AccelChoice = { accel: "tcg", reason: "KVM did not finish a SeaBIOS POST within 2000 ms" };

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rbt-accel-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function countingProbe(choice: AccelChoice): { probe: () => Promise<AccelChoice>; calls: () => number } {
  let calls = 0;
  return { probe: async () => (calls++, choice), calls: () => calls };
}

describe("cachedAccelChoice", () => {
  it("probes once per kernel and QEMU version, then answers from the file", async () => {
    await withDir(async (dir) => {
      const { probe, calls } = countingProbe(TCG);
      const options = { dir, kernel: "6.1.0", qemuVersion: async () => QEMU };
      assert.deepEqual(await cachedAccelChoice(probe, options), TCG);
      const again = await cachedAccelChoice(probe, options);
      assert.equal(calls(), 1);
      assert.equal(again.accel, "tcg");
      assert.match(again.reason, /SeaBIOS POST within 2000 ms \(probed .*, cached in .*accel/);
      const stored = JSON.parse(await readFile(accelCacheFile(dir, { kernel: "6.1.0", qemu: QEMU }), "utf8")) as Record<string, unknown>;
      assert.equal(stored.kernel, "6.1.0");
      assert.equal(stored.qemu, QEMU);
    });
  });

  const probesAgain: { name: string; first: { kernel: string; qemu: string }; second: { kernel: string; qemu: string } }[] = [
    { name: "a kernel upgrade", first: { kernel: "6.1.0", qemu: QEMU }, second: { kernel: "6.2.0", qemu: QEMU } },
    { name: "a QEMU upgrade", first: { kernel: "6.1.0", qemu: QEMU }, second: { kernel: "6.1.0", qemu: "QEMU emulator version 8.2.0" } },
  ];
  for (const c of probesAgain) {
    it(`probes again after ${c.name}`, async () => {
      await withDir(async (dir) => {
        const { probe, calls } = countingProbe(TCG);
        await cachedAccelChoice(probe, { dir, kernel: c.first.kernel, qemuVersion: async () => c.first.qemu });
        await cachedAccelChoice(probe, { dir, kernel: c.second.kernel, qemuVersion: async () => c.second.qemu });
        assert.equal(calls(), 2);
      });
    });
  }

  const notKept: { name: string; choice: AccelChoice; qemu: string }[] = [
    { name: "a probe that could not start QEMU", choice: { accel: "tcg", reason: "could not start", conclusive: false }, qemu: QEMU },
    { name: "an unreadable QEMU version", choice: TCG, qemu: "" },
  ];
  for (const c of notKept) {
    it(`keeps nothing for ${c.name}`, async () => {
      await withDir(async (dir) => {
        const { probe, calls } = countingProbe(c.choice);
        await cachedAccelChoice(probe, { dir, kernel: "6.1.0", qemuVersion: async () => c.qemu });
        await cachedAccelChoice(probe, { dir, kernel: "6.1.0", qemuVersion: async () => c.qemu });
        assert.equal(calls(), 2);
        assert.equal(existsSync(path.join(dir, "accel")), false);
      });
    });
  }

  it("probes again over a corrupt file and replaces it", async () => {
    await withDir(async (dir) => {
      const file = accelCacheFile(dir, { kernel: "6.1.0", qemu: QEMU });
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, "{not json");
      const { probe, calls } = countingProbe(TCG);
      assert.deepEqual(await cachedAccelChoice(probe, { dir, kernel: "6.1.0", qemuVersion: async () => QEMU }), TCG);
      assert.equal(calls(), 1);
      assert.equal((JSON.parse(await readFile(file, "utf8")) as AccelChoice).accel, "tcg");
    });
  });
});
