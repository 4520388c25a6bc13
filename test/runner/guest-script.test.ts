/**
 * Secret environment variables before a guest command: sh and PowerShell set them from quoted
 * literals; cmd, which has no quoting that holds every value, runs inside a PowerShell wrapper that
 * sets them and runs the cmd text from a temp .cmd file. The wrapper runs here in a real pwsh with
 * a PowerShell function named `cmd.exe` standing in for cmd: PowerShell resolves a function before
 * an external program of the same name (about_Command_Precedence,
 * https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_command_precedence).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeGuestChannel } from "../../src/guest/fake-channel.ts";
import type { PlanStep } from "../../src/recipe/plan-model.ts";
import { REDACTED } from "../../src/recipe/secrets.ts";
import { withEnvironment } from "../../src/runner/guest-script.ts";
import { runGuestStep } from "../../src/runner/guest-step.ts";
import { StepLog } from "../../src/runner/step-log.ts";
import { psQuote } from "../../src/util/powershell-quote.ts";
import { shQuote } from "../../src/util/sh-quote.ts";
import { findPwsh } from "../support/pwsh.ts";

/** Values that break `set "NAME=value"`: quotes, cmd's operators and expansions, a newline, non-ASCII. */
const HOSTILE: Readonly<Record<string, string>> = {
  QUOTE: 'pa"ss&calc&',
  PERCENT: "%PATH%",
  BANG: "!x!",
  OPERATORS: "&calc& ^ <>|",
  APOSTROPHE: "O'Brien \u2019s",
  NEWLINE: "line1\nline2",
  UNICODE: "gr\u00fc\u00df \u20ac \u{1F511}",
};
const CMD = 'echo %QUOTE% & "C:\\Program Files\\App\\setup.exe" /S\r\nexit /b %ERRORLEVEL%';

describe("withEnvironment", () => {
  for (const shell of ["sh", "powershell", "cmd"] as const) {
    it(`${shell} without variables runs the script as it is, in its own shell`, () => {
      assert.deepEqual(withEnvironment(shell, {}, "run"), { shell, script: "run" });
    });
  }

  it("sh exports each variable from a single-quoted literal", () => {
    assert.deepEqual(withEnvironment("sh", { A: "it's", B: "$x" }, "run"), { shell: "sh", script: `export A=${shQuote("it's")}\nexport B=${shQuote("$x")}\nrun` });
  });

  it("powershell sets each variable from a single-quoted literal", () => {
    assert.deepEqual(withEnvironment("powershell", { A: "it's", B: "$x" }, "run"), { shell: "powershell", script: "$env:A = 'it''s'\n$env:B = '$x'\nrun" });
  });

  it("cmd with variables runs as PowerShell: the values as PowerShell literals, the cmd text from a temp .cmd file", () => {
    const { shell, script } = withEnvironment("cmd", HOSTILE, CMD);
    assert.equal(shell, "powershell");
    const lines = script.split("\n");
    for (const [name, value] of Object.entries(HOSTILE)) assert.ok(script.includes(`$env:${name} = ${psQuote(value)}\n`), `${name} is set from a literal`);
    assert.ok(script.includes(`$script = ${psQuote(CMD)}\n`));
    assert.ok(!script.includes('set "'), "no cmd set command");
    assert.ok(lines.includes("[IO.File]::WriteAllText($file, $script, [Text.Encoding]::Default)"), "the .cmd file in the ANSI code page, as the SSH channel writes it");
    assert.ok(lines.some((line) => line.startsWith("$file = ") && line.includes("'.cmd'")));
    assert.ok(lines.some((line) => line.startsWith("try { & cmd.exe /d /c $file }") && line.includes("finally { Remove-Item -LiteralPath $file")));
    assert.equal(lines.at(-1), "exit $LASTEXITCODE");
  });
});

describe("a cmd step with secret variables", () => {
  it("goes to the guest as PowerShell; the log shows the command as written, its secret masked", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rebake-cmd-env-"));
    try {
      const channel = new FakeGuestChannel({ exec: [{ match: "cmd.exe", result: { exitCode: 0 } }] });
      const step: PlanStep = {
        id: "09-join", kind: "domain-join", title: "join", reason: "test", reboot: "never", inputs: [], contentHash: "", hash: "",
        commands: [{ shell: "cmd", command: 'echo joining with "s3cret&x"', secretEnv: { PW: "env:PW" }, successCodes: [0], rebootCodes: [], timeoutSeconds: 60 }],
      };
      const log = await StepLog.open(join(dir, "step.log"), ["s3cret&x"]);
      try {
        await runGuestStep({
          step, family: "windows", channel, files: [], log, signal: new AbortController().signal, bootTimeoutMs: 1_000,
          resolveSecret: () => "s3cret&x", clock: () => new Date(0), spent: { inGuestMs: 0, bootMs: 0 },
        });
      } finally {
        await log.close();
      }
      const [exec] = channel.events.filter((e) => e.kind === "exec");
      assert.equal(exec?.kind === "exec" && exec.options.shell, "powershell");
      const text = await readFile(join(dir, "step.log"), "utf8");
      assert.ok(text.includes(`(cmd):\necho joining with "${REDACTED}"`), text);
      assert.ok(!text.includes("s3cret") && !text.includes("$env:PW"), text);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the cmd wrapper in a real pwsh", () => {
  let pwsh: string;
  let dir: string;
  before(async () => {
    pwsh = await findPwsh();
    dir = await mkdtemp(join(tmpdir(), "rebake-cmd-wrapper-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /**
   * Runs the wrapper of CMD with HOSTILE after `cmdExe`, the stand-in for cmd.exe, in its own TEMP:
   * the stand-in writes what cmd.exe would see (its arguments, the environment, the staged file) to
   * seen.json, as UTF-8 JSON so every character survives.
   */
  async function runWrapper(name: string, cmdExe: string): Promise<{ exitCode: number | null; stderr: string; temp: string; seen: () => Promise<any> }> {
    const temp = join(dir, `${name}-temp`);
    const seenFile = join(dir, `${name}-seen.json`);
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp);
    const names = Object.keys(HOSTILE).map((n) => `'${n}'`).join(", ");
    const preamble = [
      "function global:cmd.exe {",
      "  $file = $args[2]",
      `  $seen = [ordered]@{ args = @($args); exists = (Test-Path -LiteralPath $file); content = [IO.File]::ReadAllText($file); env = [ordered]@{} }`,
      `  foreach ($n in @(${names})) { $seen.env[$n] = [Environment]::GetEnvironmentVariable($n) }`,
      `  [IO.File]::WriteAllText(${psQuote(seenFile)}, ($seen | ConvertTo-Json -Depth 4), (New-Object Text.UTF8Encoding $false))`,
      cmdExe,
      "}",
    ].join("\n");
    const scriptFile = join(dir, `${name}.ps1`);
    // With a BOM, as the SSH channel writes .ps1 files, so the non-ASCII literals read as UTF-8 everywhere.
    await writeFile(scriptFile, `\uFEFF${preamble}\n${withEnvironment("cmd", HOSTILE, CMD).script}\n`, "utf8");
    const result = await new Promise<{ exitCode: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(pwsh, ["-NoProfile", "-NonInteractive", "-File", scriptFile], {
        env: { ...process.env, TEMP: temp, NO_COLOR: "1", TERM: "dumb", POWERSHELL_TELEMETRY_OPTOUT: "1", POWERSHELL_UPDATECHECK: "Off" },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (exitCode) => resolve({ exitCode, stderr }));
    });
    return { ...result, temp, seen: async () => JSON.parse(await readFile(seenFile, "utf8")) };
  }

  it("every value reaches cmd.exe's environment byte for byte; cmd runs the staged file and its exit code is the step's", async () => {
    const run = await runWrapper("values", "  $global:LASTEXITCODE = 7");
    assert.equal(run.exitCode, 7, run.stderr);
    const seen = await run.seen();
    assert.deepEqual(seen.env, HOSTILE);
    assert.deepEqual(seen.args.slice(0, 2), ["/d", "/c"]);
    assert.match(seen.args[2], /rebake-[0-9a-f-]{36}\.cmd$/);
    assert.ok(seen.args[2].startsWith(run.temp), "staged in TEMP");
    assert.equal(seen.exists, true);
    assert.equal(seen.content, CMD, "the cmd text arrives as written");
    for (const value of Object.values(HOSTILE)) assert.ok(!seen.content.includes(value), "no value is in the staged file");
    assert.deepEqual(await readdir(run.temp), [], "the staged file is removed");
  });

  it("exit code 0 passes through", async () => {
    const run = await runWrapper("zero", "  $global:LASTEXITCODE = 0");
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(await readdir(run.temp), []);
  });

  it("when cmd.exe cannot run, the step fails with 1 and the staged file is still removed", async () => {
    const run = await runWrapper("throws", "  throw 'cmd.exe could not start'");
    assert.equal(run.exitCode, 1, run.stderr);
    assert.match(run.stderr, /cmd\.exe could not start/);
    assert.deepEqual(await readdir(run.temp), []);
  });
});
