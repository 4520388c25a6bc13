/**
 * How the runner carries out reboots, step by step, against a fake guest: each case gives the exit
 * codes the guest's commands return, run after run, and asserts what the runner did in order
 * (every command run and every reboot). Windows exit codes are scripted; Linux commands run for
 * real in sh, with the package manager's reboot flags faked in a private mount namespace, so the
 * product's own /var/run/reboot-required and `needs-restarting -r` checks are what decide.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { GuestChannel, GuestExecResult } from "../../src/guest/channel.ts";
import type { OsFamily } from "../../src/recipe/model.ts";
import type { GuestCommand, PlanStep } from "../../src/recipe/plan-model.ts";
import { guestCommand, vdaCommand, withLinuxRebootCheck } from "../../src/recipe/step-commands.ts";
import { GuestCommandFailedError } from "../../src/runner/errors.ts";
import { runGuestStep } from "../../src/runner/guest-step.ts";
import { StepLog } from "../../src/runner/step-log.ts";

const run = promisify(execFile);

/** A guest that answers each command run with the next scripted result and records what happened. */
class FakeGuest implements GuestChannel {
  readonly journal: string[] = [];
  constructor(private readonly answer: (script: string, run: number) => Promise<GuestExecResult>) {}
  private runs = 0;
  async waitReady(): Promise<void> {
    this.journal.push("ready");
  }
  async exec(script: string): Promise<GuestExecResult> {
    const result = await this.answer(script, ++this.runs);
    this.journal.push(`run -> ${result.exitCode}`);
    return result;
  }
  async upload(): Promise<{ readonly sha256: string }> {
    throw new Error("no uploads in these steps");
  }
  async reboot(): Promise<void> {
    this.journal.push("reboot");
  }
  async shutdown(): Promise<void> {
    this.journal.push("shutdown");
  }
  async close(): Promise<void> {}
}

const scripted = (codes: readonly number[]) => async (_script: string, n: number): Promise<GuestExecResult> => ({ exitCode: codes[Math.min(n, codes.length) - 1]!, stdout: "", stderr: "" });

function step(reboot: PlanStep["reboot"], command: GuestCommand): PlanStep {
  return { id: "05-app-x", kind: "app", title: "Install x", reason: "test", reboot, inputs: [], commands: [command], contentHash: "c", hash: "h" };
}

async function runStep(family: OsFamily, planned: PlanStep, guest: FakeGuest): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), "rebake-reboots-"));
  const log = await StepLog.open(join(dir, "step.log"));
  try {
    await runGuestStep({
      step: planned, family, channel: guest, files: [], log, signal: new AbortController().signal, bootTimeoutMs: 60_000,
      resolveSecret: () => "", clock: () => new Date(0), spent: { inGuestMs: 0, bootMs: 0 },
    });
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A Windows installer step as the planner writes it: 0, 3010 and 1641 succeed, 3010 and 1641 ask for a reboot. */
const msi = guestCommand("windows", "cmd", 'msiexec.exe /i "x.msi" /qn /norestart', [0, 3010, 1641]);
const vda = vdaCommand("windows", "pvs", []);

// The exit-code table in guest-step-exit-codes.test.ts counts runs and reboots per code; these
// cases add the order in which they happen and the codes it does not list.
describe("reboots on Windows (scripted exit codes, in order)", () => {
  const cases: { name: string; reboot: PlanStep["reboot"]; command: GuestCommand; codes: number[]; journal: string[]; fails?: boolean }[] = [
    { name: "exit 1641 (the installer started a reboot): one reboot after the step", reboot: "if-required", command: msi, codes: [1641], journal: ["run -> 1641", "reboot"] },
    { name: "reboot: always reboots after a plain success", reboot: "always", command: msi, codes: [0], journal: ["run -> 0", "reboot"] },
    { name: "the VDA's 3 then 0: reboot, rerun, then the step's own reboot", reboot: "always", command: vda, codes: [3, 0], journal: ["run -> 3", "reboot", "run -> 0", "reboot"] },
    { name: "the VDA's 3 forever stops after its last run (CTX695811) and still reboots", reboot: "always", command: vda, codes: [3, 3, 3, 3], journal: ["run -> 3", "reboot", "run -> 3", "reboot", "run -> 3", "reboot"] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const guest = new FakeGuest(scripted(c.codes));
      const error = await runStep("windows", step(c.reboot, c.command), guest);
      assert.deepEqual(guest.journal, c.journal);
      if (c.fails) assert.ok(error instanceof GuestCommandFailedError, String(error));
      else assert.equal(error, undefined);
    });
  }
});

describe("reboots on Linux (the real sh check, package flags faked in a private mount namespace)", () => {
  /**
   * Runs the script as the guest would, as root in a mount namespace where /run (and so
   * /var/run) is an empty tmpfs: `flag` creates /run/reboot-required there, `needsRestarting` puts
   * a needs-restarting on PATH that exits with that code. Nothing outside the namespace changes.
   */
  const linuxGuest = (setup: { flag?: boolean; needsRestarting?: number }) => async (script: string): Promise<GuestExecResult> => {
    const bin = await mkdtemp(join(tmpdir(), "rebake-reboots-bin-"));
    try {
      if (setup.needsRestarting !== undefined) {
        await writeFile(join(bin, "needs-restarting"), `#!/bin/sh\n[ "$1" = "-r" ] || exit 64\nexit ${setup.needsRestarting}\n`);
        await chmod(join(bin, "needs-restarting"), 0o755);
      }
      const prepare = ["mount -t tmpfs tmpfs /run", setup.flag ? "touch /run/reboot-required" : "true", `PATH="${bin}:$PATH" exec sh -c "$0"`].join(" && ");
      const result = await run("unshare", ["--mount", "--propagation", "private", "sh", "-c", prepare, script]).then(
        ({ stdout, stderr }) => ({ exitCode: 0, stdout, stderr }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({ exitCode: typeof error.code === "number" ? error.code : -1, stdout: error.stdout ?? "", stderr: error.stderr ?? "" }),
      );
      return result;
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  };
  /** An app install as the planner writes it for an if-required Linux step. */
  const install = (command: string) => guestCommand("linux", "sh", withLinuxRebootCheck(command), [0, 3010]);

  const cases: { name: string; command: string; setup: { flag?: boolean; needsRestarting?: number }; journal: string[]; fails?: boolean }[] = [
    { name: "nothing asks: no reboot", command: "true", setup: {}, journal: ["run -> 0"] },
    { name: "a package left /var/run/reboot-required: reboot", command: "true", setup: { flag: true }, journal: ["run -> 194", "reboot"] },
    { name: "the install itself creates /var/run/reboot-required: reboot", command: "touch /var/run/reboot-required", setup: {}, journal: ["run -> 194", "reboot"] },
    { name: "needs-restarting -r exits 1: reboot", command: "true", setup: { needsRestarting: 1 }, journal: ["run -> 194", "reboot"] },
    { name: "needs-restarting -r exits 0: no reboot", command: "true", setup: { needsRestarting: 0 }, journal: ["run -> 0"] },
    { name: "the installer's own exit 3010 (194 in sh): reboot", command: "exit 3010", setup: {}, journal: ["run -> 194", "reboot"] },
    { name: "a failing install fails the step before any flag is read", command: "exit 2", setup: { flag: true }, journal: ["run -> 2"], fails: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const guest = new FakeGuest(linuxGuest(c.setup));
      const error = await runStep("linux", step("if-required", install(c.command)), guest);
      assert.deepEqual(guest.journal, c.journal);
      if (c.fails) assert.ok(error instanceof GuestCommandFailedError, String(error));
      else assert.equal(error, undefined);
    });
  }
});
