/** Where the PVS scripts run: Windows PowerShell 5.1 on Windows or over SSH, never pwsh on Linux. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { executorFor, ExecutorPlatformError, POWERSHELL_ARGS, PowerShellError, PVS_ROLE, WINDOWS_POWERSHELL, type ExecutorRole } from "../../src/pvs/executor.ts";
import { MCS_ROLE } from "../../src/publish/mcs/catalog-image-powershell.ts";
import { createRecordingExec } from "../../src/util/exec.ts";
import { startWinrmContractHost, type ContractHost, type Program } from "../guest/winrm-contract-host.ts";
import { findPwsh, runWithStub } from "../support/pwsh.ts";
import { PWSH_INSTALL_HINT } from "../../src/util/pwsh.ts";
import { PVS_STUB_MODULE } from "../support/pvs-stub.ts";

describe("PVS PowerShell executor", () => {
  for (const platform of ["linux", "darwin"] as const) {
    it(`kind local on ${platform} is an error that names Windows PowerShell and the remote executors`, () => {
      assert.throws(() => executorFor({ kind: "local" }, createRecordingExec(), platform), (error: unknown) =>
        error instanceof ExecutorPlatformError && /Windows PowerShell 5\.1 \(powershell\.exe\)/.test(error.message) && new RegExp(`runs ${platform}`).test(error.message) && /kind ssh or winrm/.test(error.message));
    });
  }

  const roles: { role: ExecutorRole; key: RegExp; server: RegExp }[] = [
    { role: PVS_ROLE, key: /set pvs\.executor to kind ssh/, server: /cannot reach the PVS server over SSH/ },
    { role: MCS_ROLE, key: /set mcs\.powershell\.executor to kind ssh/, server: /cannot reach the Delivery Controller over SSH/ },
  ];
  for (const { role, key, server } of roles) {
    it(`messages name the ${role.server} and the stack key it is configured by`, async () => {
      assert.throws(() => executorFor({ kind: "local" }, createRecordingExec(), "linux", {}, role), (error: unknown) => error instanceof ExecutorPlatformError && key.test(error.message));
      const unreachable = createRecordingExec(() => ({ exitCode: 255, stderr: "Connection refused" }));
      await assert.rejects(executorFor({ kind: "ssh", host: "h", user: "u", port: 22 }, unreachable, "linux", {}, role).run("Get-Date"), (error: unknown) => error instanceof PowerShellError && server.test(error.message));
    });
  }

  it("kind local on Windows runs powershell.exe with the script on stdin", async () => {
    const exec = createRecordingExec(() => ({ stdout: "ok" }));
    await executorFor({ kind: "local" }, exec, "win32").run("Get-Date");
    assert.deepEqual(exec.calls.map((c) => [c.command, c.args, c.options?.input]), [[WINDOWS_POWERSHELL, POWERSHELL_ARGS, "Get-Date"]]);
  });

  it("kind ssh runs powershell.exe on the PVS server, key only and no prompts", async () => {
    const exec = createRecordingExec(() => ({ stdout: "ok" }));
    await executorFor({ kind: "ssh", host: "pvs01.corp.example", user: "svc-rebake", port: 22, identityFile: "/k" }, exec, "linux").run("Get-Date");
    const call = exec.calls[0]!;
    assert.equal(call.command, "ssh");
    assert.deepEqual(call.args.slice(call.args.indexOf("svc-rebake@pvs01.corp.example")), ["svc-rebake@pvs01.corp.example", WINDOWS_POWERSHELL, ...POWERSHELL_ARGS]);
    assert.ok(call.args.includes("BatchMode=yes"));
    assert.equal(call.options?.input, "Get-Date");
  });

  it("a non-zero exit is a PowerShellError with the script's error output", async () => {
    const exec = createRecordingExec(() => ({ exitCode: 1, stderr: "Set-PvsDisk: A parameter cannot be found" }));
    await assert.rejects(executorFor({ kind: "local" }, exec, "win32").run("x"), (error: unknown) => error instanceof PowerShellError && /exit code 1:\nSet-PvsDisk: A parameter/.test(error.message));
  });

  // pwsh stands in for powershell.exe 5.1 here: both run the same bootstrap the same way.
  it("contract: the bootstrap runs the stdin script as one block: a failed line stops it and the exit code is 1", async () => {
    const result = await runWithStub(PVS_STUB_MODULE, "$ErrorActionPreference = 'Stop'\r\nWrite-Output 'before'\r\nif ($true) {\r\n  Get-Item -LiteralPath '/no/such/file'\r\n}\r\nWrite-Output 'after'\r\n");
    assert.equal(result.exitCode, 1);
    assert.match(result.stdout, /before/);
    assert.doesNotMatch(result.stdout, /after/);
  });

  it("contract: the bootstrap reads the script as UTF-8", async () => {
    const result = await runWithStub(PVS_STUB_MODULE, "Write-Output ('Zürich'.Length)\r\n");
    assert.equal(result.stdout.trim(), "6");
  });

  it("without pwsh the tests fail with how to install it", async () => {
    await assert.rejects(findPwsh({ PATH: "", HOME: "/nonexistent-home" }), (error: unknown) => error instanceof Error && error.message.includes(PWSH_INSTALL_HINT));
  });
});

describe("PVS PowerShell executor over WinRM (contract)", () => {
  const hosts: ContractHost[] = [];
  after(async () => {
    for (const host of hosts) {
      assert.deepEqual(host.violations, [], "every request followed MS-WSMV");
      await host.stop();
    }
  });
  async function winrm(run: (program: Program) => { stdout?: string; stderr?: string; exitCode?: number }) {
    const host = await startWinrmContractHost({ user: "svc-rebake", password: "S3cret'&", run });
    hosts.push(host);
    const port = Number(new URL(host.url).port);
    return executorFor({ kind: "winrm", host: "127.0.0.1", user: "svc-rebake", password: "env:PVS_WINRM_PASSWORD", https: false, port }, createRecordingExec(), "linux", { PVS_WINRM_PASSWORD: "S3cret'&" });
  }

  it("contract: runs the whole script in Windows PowerShell on the PVS server and returns its output", async () => {
    const seen: Program[] = [];
    const executor = await winrm((program) => (seen.push(program), { stdout: "REBAKE-RESULT {}\r\n" }));
    const script = "$ErrorActionPreference = 'Stop'\r\nAdd-PSSnapin Citrix.PVS.SnapIn\r\nWrite-Output 'Zürich'\r\n";
    const result = await executor.run(script);
    assert.match(result.stdout, /REBAKE-RESULT/);
    assert.deepEqual(seen.map((p) => [p.shell, p.script]), [["powershell", script]]);
  });

  it("contract: a failing script is a PowerShellError with its error output", async () => {
    const executor = await winrm(() => ({ exitCode: 1, stderr: "Set-PvsDisk: A parameter cannot be found" }));
    await assert.rejects(executor.run("Set-PvsDisk -Description x"), (error: unknown) => error instanceof PowerShellError && /exit code 1:\nSet-PvsDisk/.test(error.message));
  });

  it("contract: a wrong password is a PowerShellError that says what to check", async () => {
    const host = await startWinrmContractHost({ user: "svc-rebake", password: "right" });
    hosts.push(host);
    const executor = executorFor({ kind: "winrm", host: "127.0.0.1", user: "svc-rebake", password: "env:P", https: false, port: Number(new URL(host.url).port) }, createRecordingExec(), "linux", { P: "wrong" });
    await assert.rejects(executor.run("Get-Date"), (error: unknown) => error instanceof PowerShellError && /over WinRM .*check the executor host, user, password/s.test(error.message));
  });
});
