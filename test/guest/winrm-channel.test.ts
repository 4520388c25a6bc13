/**
 * The WinRM channel against a contract host that validates every WS-Management request
 * (winrm-contract-host.ts) and answers like Windows.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, test } from "node:test";
import { GuestTimeoutError } from "../../src/guest/channel.ts";
import { WinrmChannel } from "../../src/guest/winrm/winrm-channel.ts";
import { WinrmCommandTimeoutError } from "../../src/guest/winrm/winrs-command.ts";
import { WinrmAuthError } from "../../src/guest/winrm/wsman-client.ts";
import { CMD_LINE_LIMIT } from "./ms-wsmv.ts";
import { elements, escapeXml } from "../../src/guest/winrm/xml.ts";
import { startWinrmContractHost, type ContractHost, type ContractHostOptions } from "./winrm-contract-host.ts";

const USER = "Administrator";
const PASSWORD = "Rebake&<Secret>'1";
let host: ContractHost | undefined;

async function setup(options: Partial<ContractHostOptions> = {}, password = PASSWORD) {
  host = await startWinrmContractHost({ user: USER, password: PASSWORD, ...options });
  return { host, channel: new WinrmChannel({ url: host.url, user: USER, password: () => password }) };
}

afterEach(async () => {
  if (host) {
    assert.deepEqual(host.violations, [], "every request followed MS-WSMV");
    assert.equal(host.openShells(), 0, "every shell was deleted");
    await host.stop();
    host = undefined;
  }
});

describe("WinRM channel (contract)", () => {
  const scripts = [
    { name: "a PowerShell script runs as -EncodedCommand", shell: "powershell", script: "Write-Output 'héllo'\nexit 3", staged: false },
    { name: "a one-line cmd script is the command line itself", shell: "cmd", script: "dir C:\\", staged: false },
    { name: "a multi-line cmd script is staged as a .cmd file", shell: "cmd", script: "echo a\necho b", staged: true },
    { name: "a PowerShell script too long for the command line is staged as a .ps1 file", shell: "powershell", script: `# ${"x".repeat(4_000)}\nWrite-Output 'long'`, staged: true },
  ] as const;
  for (const row of scripts) {
    test(`contract: ${row.name}, with output across several Receives and its exit code`, async () => {
      const seen: { shell: string; script: string; staged: boolean }[] = [];
      const { host, channel } = await setup({
        run: (program) => {
          seen.push(program);
          return { stdout: `out ${"é".repeat(150)} end\r\n`, stderr: "warning\r\n", exitCode: 3 };
        },
      });
      const streamed: string[] = [];
      const result = await channel.exec(row.script, { shell: row.shell, timeoutMs: 10_000, onOutput: (chunk) => streamed.push(chunk) });
      assert.deepEqual(result, { exitCode: 3, stdout: `out ${"é".repeat(150)} end\r\n`, stderr: "warning\r\n" });
      assert.ok(streamed.length >= 3, `output arrived in pieces: ${JSON.stringify(streamed)}`);
      const expected = row.shell === "cmd" ? row.script.replace(/\n/g, row.staged ? "\r\n" : "\n") : row.script;
      assert.deepEqual(seen, [{ shell: row.shell, script: expected, staged: row.staged }]);
      assert.ok(host.requests.filter((r) => r.action.endsWith("/Receive")).length >= 3);
      assert.equal(host.files.size, 0, "the staged script was removed");
    });
  }

  test("contract: a command that outlives its timeout is signalled to terminate and the shell deleted", async () => {
    const { host, channel } = await setup({ run: () => ({ hang: true }) });
    await assert.rejects(
      channel.exec("Start-Sleep 3600", { shell: "powershell", timeoutMs: 1_500 }),
      (error: unknown) => error instanceof WinrmCommandTimeoutError && error instanceof GuestTimeoutError && /did not finish within 1500 ms and was terminated/.test((error as Error).message),
    );
    assert.equal(host.terminated.length, 1);
    assert.ok(host.requests.filter((r) => r.action.endsWith("/Receive")).length >= 2, "operation-timeout faults were retried");
  });

  test("contract: an abort terminates the command", async () => {
    const { host, channel } = await setup({ run: () => ({ hang: true }) });
    const controller = new AbortController();
    const running = channel.exec("Start-Sleep 3600", { shell: "powershell", timeoutMs: 60_000, signal: controller.signal });
    // Interrupt once the command runs (the channel is receiving its output), not after a guessed delay.
    while (!host.requests.some((r) => r.action.endsWith("/Receive"))) await sleep(10);
    controller.abort(new Error("SIGINT"));
    await assert.rejects(running, /SIGINT/);
    assert.equal(host.terminated.length, 1);
  });

  test("contract: upload writes base64 chunks under cmd.exe's limit and checks Get-FileHash", async () => {
    const { host, channel } = await setup();
    const dir = await mkdtemp(path.join(tmpdir(), "rebake-winrm-"));
    try {
      const local = path.join(dir, "setup.msi");
      const content = randomBytes(40_000);
      await writeFile(local, content);
      const guestPath = "C:\\Windows\\Temp\\O'Brien setup.msi";
      const { sha256 } = await channel.upload(local, guestPath);
      assert.equal(sha256, createHash("sha256").update(content).digest("hex"));
      assert.deepEqual(host.files.get(guestPath), content);
      const writes = host.requests.filter((r) => r.commandLine?.includes("FromBase64String"));
      assert.ok(writes.length >= 7, `40000 bytes need several chunks, got ${writes.length}`);
      assert.ok(writes.every((w) => w.commandLine!.length <= CMD_LINE_LIMIT));
      assert.ok(writes[0]!.commandLine!.includes("[IO.FileMode]::Create") && writes.slice(1).every((w) => w.commandLine!.includes("[IO.FileMode]::Append")));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("contract: an empty file uploads as one create", async () => {
    const { host, channel } = await setup();
    const { sha256 } = await channel.upload("/dev/null", "C:\\empty.txt");
    assert.equal(sha256, createHash("sha256").digest("hex"));
    assert.deepEqual(host.files.get("C:\\empty.txt"), Buffer.alloc(0));
  });

  test("contract: wrong credentials fail with a message naming the user and the fix, never the password", async () => {
    const { channel } = await setup({}, "wrong-password");
    await assert.rejects(channel.exec("dir", { shell: "cmd", timeoutMs: 5_000 }), (error: unknown) => {
      assert.ok(error instanceof WinrmAuthError);
      assert.match(error.message, /refused user Administrator \(HTTP 401\).*Basic="true"/);
      assert.ok(!error.message.includes("wrong-password"));
      return true;
    });
  });

  test("contract: reboot waits through the outage until the boot time changes", async () => {
    const { host, channel } = await setup({ rebootDownMs: 1_500 });
    const before = host.bootTime();
    await channel.reboot(20_000);
    assert.notEqual(host.bootTime(), before);
    assert.ok(host.requests.some((r) => r.commandLine?.startsWith("shutdown.exe /r")));
  });

  test("contract: waitReady times out naming what it waited for", async () => {
    const { channel } = await setup({}, "wrong-password");
    await assert.rejects(channel.waitReady(1_500), (error: unknown) => error instanceof GuestTimeoutError && /waiting for WinRM at http:\/\/127\.0\.0\.1:\d+\/wsman to run a command as Administrator: not ready within 1500 ms \(last: .*HTTP 401/.test((error as Error).message));
  });

  test("contract: sh is refused before anything is sent", async () => {
    const { host, channel } = await setup();
    await assert.rejects(channel.exec("ls", { shell: "sh", timeoutMs: 1_000 }), /needs a Linux guest/);
    assert.equal(host.requests.length, 0);
  });
});

describe("WS-Management XML", () => {
  test("escaping round-trips through the element reader", () => {
    const text = `a<b>&"c"'d'`;
    const [element] = elements(`<rsp:Command x:Name="${escapeXml(text)}">${escapeXml(text)}</rsp:Command>`, "Command");
    assert.deepEqual(element, { attributes: { Name: text }, text });
  });

  test("reads elements whatever their prefix, self-closing ones included", () => {
    const xml = `<s:Body><rsp:Stream Name="stdout" CommandId="1">aGk=</rsp:Stream><Stream Name="stderr" End='true'/></s:Body>`;
    assert.deepEqual(elements(xml, "Stream"), [
      { attributes: { Name: "stdout", CommandId: "1" }, text: "aGk=" },
      { attributes: { Name: "stderr", End: "true" }, text: "" },
    ]);
  });
});
