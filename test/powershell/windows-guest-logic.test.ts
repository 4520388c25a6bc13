/**
 * Windows guest logic under Pester, on Linux with real pwsh and Windows-only cmdlets mocked: the
 * install wrapper, the Windows Update loop and the seal commands, each as rebake generates it.
 * Every Pester test is reported here as its own test, so its failure fails the suite.
 */
import { strict as assert } from "node:assert";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CLEANUP_ACTIONS, cleanupCommands, generalizeCommand, removeUploadsCommand } from "../../src/recipe/seal-commands.ts";
import { updatesCommand } from "../../src/recipe/update-commands.ts";
import { withWindowsRebootCheck } from "../../src/recipe/windows-reboot-check.ts";
import { runPester } from "../support/pester.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const PESTER_FILES = ["install-wrapper.Tests.ps1", "windows-update.Tests.ps1", "seal.Tests.ps1"].map((f) => join(HERE, f));

/** The installer command line, with the cmd quoting that must reach cmd.exe untouched. */
const INSTALL_COMMAND = `"C:\\Windows\\Temp\\rebake\\05-app-x\\setup.exe" /S /v"/qn REBOOT=ReallySuppress" INSTALLDIR="C:\\Program Files\\O'Brien"`;

/** The generated scripts the Pester files run, by file name. */
function generatedScripts(): Record<string, string> {
  const cleanupActions = Object.keys(CLEANUP_ACTIONS.windows);
  const cleanup = cleanupCommands("windows", cleanupActions);
  return {
    "install-wrapper.ps1": withWindowsRebootCheck(INSTALL_COMMAND),
    "install-wrapper.command.txt": INSTALL_COMMAND,
    "updates-all.ps1": updatesCommand("windows", { policy: "all", exclude: ["KB5034439"] }).command,
    "updates-security.ps1": updatesCommand("windows", { policy: "security" }).command,
    "updates-max-rounds.txt": String(updatesCommand("windows", { policy: "all" }).maxRuns),
    ...Object.fromEntries(cleanupActions.map((action, i) => [`seal-cleanup-${action}.ps1`, cleanup[i]!.command])),
    "seal-citrix-cleanup.ps1": cleanup.at(-1)!.command,
    "seal-generalize.ps1": generalizeCommand("windows").command,
    "seal-remove-uploads.ps1": removeUploadsCommand("windows").command,
  };
}

const dir = await mkdtemp(join(tmpdir(), "rebake-pester-"));
after(() => rm(dir, { recursive: true, force: true }));
for (const [name, text] of Object.entries(generatedScripts())) await writeFile(join(dir, name), text);
const outcomes = await runPester(PESTER_FILES, { Scripts: dir });

describe("Windows guest logic under Pester (runs on Linux with mocks)", () => {
  it("Pester ran the tests of every file", () => {
    const describes = new Set(outcomes.map((o) => o.describe));
    assert.deepEqual([...describes].sort(), [
      "Seal (on Linux, Windows-only commands mocked)",
      "Windows Update loop (on Linux, Windows Update Agent COM API mocked)",
      "Windows install wrapper (on Linux, registry and cmd.exe mocked)",
    ]);
  });
  for (const outcome of outcomes) {
    it(outcome.name, { skip: outcome.result === "Skipped" }, () => {
      assert.equal(outcome.result, "Passed", outcome.error);
    });
  }
});
