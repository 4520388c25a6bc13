/**
 * The OS-updates step end to end on Linux: the runner (runGuestStep) runs the generated Windows
 * Update script round after round in real pwsh, against a fake Windows Update Agent
 * (fake-windows-update.ps1) whose state survives the runner's reboots. It repeats until a search
 * finds nothing, and stops after the recipe's maxRounds when updates keep coming.
 */
import { strict as assert } from "node:assert";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { GuestChannel, GuestExecOptions, GuestExecResult } from "../../src/guest/channel.ts";
import type { PlanStep } from "../../src/recipe/plan-model.ts";
import { updatesCommand } from "../../src/recipe/update-commands.ts";
import { runGuestStep } from "../../src/runner/guest-step.ts";
import { StepLog } from "../../src/runner/step-log.ts";
import { createExec } from "../../src/util/exec.ts";
import { requirePwsh } from "../support/powershell.ts";

const FAKE_WUA = fileURLToPath(new URL("./fake-windows-update.ps1", import.meta.url));
const EXIT_MARKER = "REBAKE-EXIT ";
const dir = await mkdtemp(join(tmpdir(), "rebake-wu-rounds-"));
after(() => rm(dir, { recursive: true, force: true }));

/** What the fake agent offers, which installed KB makes which others applicable, what is installed. */
interface WuaState {
  readonly offered: readonly string[];
  readonly unlocks: Readonly<Record<string, readonly string[]>>;
  readonly installed: readonly string[];
}

/** A Windows guest on Linux: each PowerShell command runs in pwsh after the fake agent's prelude. */
class PwshWindowsGuest implements GuestChannel {
  readonly exitCodes: number[] = [];
  reboots = 0;
  constructor(private readonly statePath: string, private readonly prelude: string) {}

  async exec(script: string, options: GuestExecOptions): Promise<GuestExecResult> {
    assert.equal(options.shell, "powershell");
    const file = join(dir, `round-${this.exitCodes.length + 1}.ps1`);
    await writeFile(file, `${this.prelude}\n${script}\n`);
    // A Linux process exit status has 8 bits (3010 would arrive as 194); Windows' has 32. The
    // script's own exit code, read inside PowerShell, is what a Windows guest would report.
    const run = `& '${file}'; [Console]::Out.WriteLine('${EXIT_MARKER}' + $LASTEXITCODE)`;
    const result = await createExec()(requirePwsh(), ["-NoLogo", "-NoProfile", "-NonInteractive", "-Command", run], {
      env: { REBAKE_FAKE_WUA: this.statePath }, timeoutMs: options.timeoutMs,
    });
    const exitCode = Number(new RegExp(`${EXIT_MARKER}(-?\\d+)`).exec(result.stdout)?.[1]);
    this.exitCodes.push(exitCode);
    return { ...result, exitCode };
  }
  async reboot(): Promise<void> {
    this.reboots++;
  }
  async waitReady(): Promise<void> {}
  async upload(): Promise<{ readonly sha256: string }> {
    throw new Error("the updates step uploads nothing");
  }
  async shutdown(): Promise<void> {}
  async close(): Promise<void> {}
}

function updatesStep(maxRounds: number, exclude: readonly string[]): PlanStep {
  return {
    id: "02-updates", kind: "updates", title: "Install all OS updates", reason: "test", reboot: "if-required",
    inputs: [], commands: [updatesCommand("windows", { policy: "all", maxRounds, exclude })], contentHash: "", hash: "",
  };
}

const rows: readonly { name: string; offered: string[]; unlocks: WuaState["unlocks"]; maxRounds: number; exclude: readonly string[]; runs: number[]; installed: string[]; reboots: number }[] = [
  {
    name: "repeats until nothing applies: an update that makes another applicable takes a second round, the third finds nothing",
    offered: ["5000001", "5034439"], unlocks: { "5000001": ["5000002"] },
    maxRounds: 5, exclude: ["KB5034439"], runs: [3010, 3010, 0], installed: ["5000001", "5000002"], reboots: 2,
  },
  {
    name: "stops after maxRounds when every round makes another update applicable, and reboots for the last one",
    offered: ["1"], unlocks: { "1": ["2"], "2": ["3"], "3": ["4"] },
    maxRounds: 3, exclude: [], runs: [3010, 3010, 3010], installed: ["1", "2", "3"], reboots: 3,
  },
  { name: "one round and no reboot when nothing applies", offered: [], unlocks: {}, maxRounds: 5, exclude: [], runs: [0], installed: [], reboots: 0 },
];

describe("the Windows OS-updates step through the runner (runs on Linux: real pwsh, fake Windows Update Agent)", () => {
  for (const [i, row] of rows.entries()) {
    it(row.name, async () => {
      const statePath = join(dir, `wua-${i}.json`);
      await writeFile(statePath, JSON.stringify({ offered: row.offered, unlocks: row.unlocks, installed: [] }));
      const guest = new PwshWindowsGuest(statePath, await readFile(FAKE_WUA, "utf8"));
      const log = await StepLog.open(join(dir, `step-${i}.log`));
      try {
        await runGuestStep({
          step: updatesStep(row.maxRounds, row.exclude), family: "windows", channel: guest, files: [], log,
          signal: new AbortController().signal, bootTimeoutMs: 60_000, resolveSecret: () => "", clock: () => new Date(0),
          spent: { inGuestMs: 0, bootMs: 0 },
        });
      } finally {
        await log.close();
      }
      assert.deepEqual(guest.exitCodes, row.runs);
      assert.deepEqual((JSON.parse(await readFile(statePath, "utf8")) as WuaState).installed ?? [], row.installed);
      assert.equal(guest.reboots, row.reboots);
    });
  }
});
