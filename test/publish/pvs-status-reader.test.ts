/**
 * status's live PVS reader end to end short of the network: the stack's ssh executor hands the
 * generated script to `ssh`, and the recording exec here runs it in pwsh against the stub snap-in
 * generated from Citrix's reference (test/support/pvs-stub.ts), the way the PVS server's Windows
 * PowerShell would run it from ssh's stdin.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { liveReader } from "../../src/publish/release-status.ts";
import { PowerShellError } from "../../src/pvs/executor.ts";
import { loadStack } from "../../src/stacks/load-stack.ts";
import type { Exec, ExecOptions } from "../../src/util/exec.ts";
import { PVS_STUB_MODULE } from "../support/pvs-stub.ts";
import { runWithStub, type StubCall, type StubResponses } from "../support/pwsh.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** `ssh` that runs its stdin in pwsh against the stub snap-in; records the ssh arguments and the stub calls. */
function sshIntoStub(responses: StubResponses) {
  const seen: { args: readonly string[]; calls: readonly StubCall[] }[] = [];
  const exec: Exec = async (command, args, options?: ExecOptions) => {
    assert.equal(command, "ssh");
    const run = await runWithStub(PVS_STUB_MODULE, String(options?.input), responses);
    seen.push({ args, calls: run.calls });
    return { command, exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr };
  };
  return { exec, seen };
}

describe("status's PVS reader through the stack's executor", () => {
  it("runs the status script on the stack's PVS server and returns each site's vDisks and versions", async () => {
    const stack = await loadStack(REPO, "prod");
    const { exec, seen } = sshIntoStub({
      "Get-PvsDiskLocator": [{ returns: [{ Name: "ws2022-apps-3.2.0" }] }, { returns: [] }],
      "Get-PvsDiskVersion": [{ returns: [{ Version: 0, Access: 0 }] }],
    });
    const sites = await liveReader({}, exec).pvsRegistered(stack);
    assert.ok(seen[0]!.args.includes("svc-rebake@pvs01.corp.example"), seen[0]!.args.join(" "));
    assert.deepEqual(seen[0]!.calls.filter((c) => c.cmdlet === "Get-PvsDiskLocator").map((c) => c.parameters), [
      { SiteName: ["HQ"], StoreName: ["Store-HQ"] },
      { SiteName: ["Branch-Lyon"], StoreName: ["Store-Lyon"] },
    ]);
    assert.deepEqual(sites, [
      { siteName: "HQ", storeName: "Store-HQ", vdisks: [{ name: "ws2022-apps-3.2.0", versions: [{ version: 0, access: 0 }] }] },
      { siteName: "Branch-Lyon", storeName: "Store-Lyon", vdisks: [] },
    ]);
  });

  it("an ssh connection failure is an error naming the server and what ssh said", async () => {
    const stack = await loadStack(REPO, "dev");
    const exec: Exec = async (command) => ({ command, exitCode: 255, stdout: "", stderr: "ssh: connect to host pvs-dev01.corp.example port 22: Connection timed out" });
    await assert.rejects(liveReader({}, exec).pvsRegistered(stack), (error: unknown) => error instanceof PowerShellError && /cannot reach the PVS server over SSH \(svc-rebake@pvs-dev01\.corp\.example:22\): ssh: connect to host/.test(error.message));
  });
});
