/**
 * What an exit code makes the runner do with one guest command: reboot codes (which are success
 * codes too, like 3010) reboot, rerun codes reboot and run the command again up to maxRuns, plain
 * success codes go on, anything else fails the step.
 */
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FakeGuestChannel } from "../../src/guest/fake-channel.ts";
import type { GuestCommand, PlanStep } from "../../src/recipe/plan-model.ts";
import { runGuestStep } from "../../src/runner/guest-step.ts";
import { StepLog } from "../../src/runner/step-log.ts";

const dir = await mkdtemp(join(tmpdir(), "rebake-exit-codes-"));
after(() => rm(dir, { recursive: true, force: true }));

const INSTALL: GuestCommand = { shell: "powershell", command: "install", successCodes: [0, 3010], rebootCodes: [3010], timeoutSeconds: 60 };
const UPDATES: GuestCommand = { ...INSTALL, command: "updates", rerunCodes: [3010], maxRuns: 3 };
const VDA: GuestCommand = { shell: "cmd", command: "vda", successCodes: [0, 3, 8], rebootCodes: [3, 8], rerunCodes: [3], maxRuns: 3, timeoutSeconds: 60 };

const rows: readonly { name: string; command: GuestCommand; reboot: PlanStep["reboot"]; exitCode: number; runs: number; reboots: number; fails?: boolean }[] = [
  { name: "3010 from an if-required install reboots once", command: INSTALL, reboot: "if-required", exitCode: 3010, runs: 1, reboots: 1 },
  { name: "0 from an if-required install does not reboot", command: INSTALL, reboot: "if-required", exitCode: 0, runs: 1, reboots: 0 },
  { name: "3010 from a step that never reboots goes on without a reboot", command: INSTALL, reboot: "never", exitCode: 3010, runs: 1, reboots: 0 },
  { name: "3010 from the updates round reruns it after a reboot, maxRuns times, then reboots for the last", command: UPDATES, reboot: "if-required", exitCode: 3010, runs: 3, reboots: 3 },
  { name: "the VDA's 3 reruns it after a reboot, maxRuns times", command: VDA, reboot: "always", exitCode: 3, runs: 3, reboots: 3 },
  { name: "the VDA's 8 reboots without a rerun", command: VDA, reboot: "always", exitCode: 8, runs: 1, reboots: 1 },
  { name: "a code that is not a success code fails the step", command: INSTALL, reboot: "if-required", exitCode: 1603, runs: 1, reboots: 0, fails: true },
];

describe("guest command exit codes", () => {
  for (const [i, row] of rows.entries()) {
    it(row.name, async () => {
      const channel = new FakeGuestChannel({ exec: [{ match: row.command.command, result: { exitCode: row.exitCode } }] });
      const step: PlanStep = { id: "03-x", kind: "app", title: "x", reason: "test", reboot: row.reboot, inputs: [], commands: [row.command], contentHash: "", hash: "" };
      const log = await StepLog.open(join(dir, `${i}.log`));
      const run = runGuestStep({
        step, family: "windows", channel, files: [], log, signal: new AbortController().signal, bootTimeoutMs: 1_000,
        resolveSecret: () => "", clock: () => new Date(0), spent: { inGuestMs: 0, bootMs: 0 },
      });
      try {
        if (row.fails) await assert.rejects(run, /exited with code 1603/);
        else await run;
      } finally {
        await log.close();
      }
      assert.equal(channel.scripts.length, row.runs);
      assert.equal(channel.events.filter((e) => e.kind === "reboot").length, row.reboots);
    });
  }
});
