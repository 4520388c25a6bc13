/**
 * Real PowerShell for tests: finds pwsh (PATH, then the .NET global tool) and runs a script against
 * a stub module the way rebake's executor runs it (the script on stdin, the executor's arguments),
 * with the stub module reachable by PowerShell's module autoloading.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { POWERSHELL_ARGS } from "../../src/pvs/executor.ts";
import { findPwsh as findInstalledPwsh, PWSH_INSTALL_HINT } from "../../src/util/pwsh.ts";
import { STUB_LOG_ENV, STUB_RESPONSES_ENV, writeStubModule, type StubModuleSpec } from "./powershell-stub.ts";

/** The pwsh to run; fails (never skips) with install advice when there is none. */
export async function findPwsh(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const pwsh = findInstalledPwsh({ env });
  if (!pwsh) throw new Error(`pwsh (PowerShell 7) is needed for these tests: ${PWSH_INSTALL_HINT}`);
  return pwsh;
}

export interface StubCall {
  readonly cmdlet: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

export interface StubRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The calls the stubs accepted, in order. */
  readonly calls: readonly StubCall[];
  /** With `catchError`: the message of the terminating error that ended the script, if one did. */
  readonly error?: string;
}

export interface StubRunOptions {
  /**
   * Runs the script inside try/catch, as a caller that reads the error's message would, so `error`
   * is that message alone (stderr also echoes the failing line, which names its parameters). Only
   * for scripts that stop on every error: inside try, an error that would end just one statement
   * ends the script.
   */
  readonly catchError?: boolean;
}

/** pwsh starts in seconds; a run that takes this long hangs, and fails with what it printed. */
const RUN_TIMEOUT_MS = 120_000;
const ERROR_MARKER = "REBAKE-STUB-ERROR ";

const caught = (script: string) => `try { & {\n${script}\n} } catch { Write-Output ('${ERROR_MARKER}' + $_.Exception.Message) }\n`;

/** What each stub returns per call (see powershell-stub.ts). */
export type StubResponses = Readonly<Record<string, readonly ({ returns: readonly unknown[] } | { error: { code: number; message: string; terminating: boolean } })[]>>;

/** Runs `script` in pwsh with `module` on PSModulePath; each run gets its own folder. */
export async function runWithStub(module: StubModuleSpec, script: string, responses: StubResponses = {}, options: StubRunOptions = {}): Promise<StubRun> {
  const pwsh = await findPwsh();
  const dir = await mkdtemp(path.join(os.tmpdir(), "rebake-pwsh-stub-"));
  try {
    const modules = path.join(dir, "modules");
    await writeStubModule(modules, module);
    const log = path.join(dir, "calls.jsonl");
    const responsesFile = path.join(dir, "responses.json");
    await writeFile(log, "");
    await writeFile(responsesFile, JSON.stringify(responses));
    const env = { ...process.env, NO_COLOR: "1", TERM: "dumb", PSModulePath: modules, [STUB_LOG_ENV]: log, [STUB_RESPONSES_ENV]: responsesFile, POWERSHELL_TELEMETRY_OPTOUT: "1", POWERSHELL_UPDATECHECK: "Off" };
    const { exitCode, stdout, stderr } = await new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(pwsh, [...POWERSHELL_ARGS], { env, stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`pwsh ran longer than ${RUN_TIMEOUT_MS / 1000} s; stdout:\n${out}\nstderr:\n${err}`));
      }, RUN_TIMEOUT_MS);
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ exitCode: code ?? -1, stdout: out, stderr: err });
      });
      child.stdin.end(options.catchError ? caught(script) : script);
    });
    const calls = (await readFile(log, "utf8"))
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as StubCall);
    const error = stdout.split(/\r?\n/).find((line) => line.startsWith(ERROR_MARKER))?.slice(ERROR_MARKER.length).trim();
    return { exitCode, stdout, stderr, calls, ...(error !== undefined ? { error } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
