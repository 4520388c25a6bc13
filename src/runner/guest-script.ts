/**
 * Small pieces of guest script the runner writes itself: creating the upload directory and
 * setting environment variables (resolved secrets) before a planned command. Values are quoted for
 * the shell that sets them, so a secret with quotes, spaces or shell syntax arrives intact.
 */
import { posix, win32 } from "node:path";
import type { OsFamily, Shell } from "../recipe/model.ts";
import { psQuote } from "../util/powershell-quote.ts";
import { shQuote } from "../util/sh-quote.ts";
import { runFromTempFile } from "../guest/windows-script-file.ts";

export function defaultShell(family: OsFamily): Shell {
  return family === "windows" ? "powershell" : "sh";
}

/** Where inputs land when the plan does not say: one folder per step. */
export function defaultUploadDir(family: OsFamily, stepId: string): string {
  return family === "windows" ? `C:\\rebake\\uploads\\${stepId}` : `/var/tmp/rebake/uploads/${stepId}`;
}

export function guestDirname(family: OsFamily, path: string): string {
  return family === "windows" ? win32.dirname(path) : posix.dirname(path);
}

export function guestJoin(family: OsFamily, dir: string, name: string): string {
  return family === "windows" ? win32.join(dir, name) : posix.join(dir, name);
}

export function mkdirScript(shell: Shell, dir: string): string {
  switch (shell) {
    case "sh":
      return `mkdir -p ${shQuote(dir)}`;
    case "powershell":
      return `New-Item -ItemType Directory -Force -Path ${psQuote(dir)} | Out-Null`;
    case "cmd":
      return `if not exist "${dir}" mkdir "${dir}"`;
  }
}

/** A script and the shell that runs it. */
export interface ShellScript {
  readonly shell: Shell;
  readonly script: string;
}

/**
 * The script with `env` set first. sh and PowerShell set each variable in their own syntax from a
 * quoted literal. cmd has no quoting that holds any value: in `set "NAME=value"` a `"` in the value
 * ends the quotes and `&` or `|` after it run commands, and `%X%` (or `!X!`) inside it expands. So
 * a cmd script with variables runs as PowerShell that sets them from PowerShell literals, stages
 * the cmd text in a temp .cmd file and runs it with cmd.exe, which inherits them untouched.
 */
export function withEnvironment(shell: Shell, env: Readonly<Record<string, string>>, script: string): ShellScript {
  const names = Object.keys(env);
  if (names.length === 0) return { shell, script };
  switch (shell) {
    case "sh":
      return { shell, script: `${names.map((name) => `export ${name}=${shQuote(env[name]!)}`).join("\n")}\n${script}` };
    case "powershell":
      return { shell, script: `${powershellAssignments(env)}\n${script}` };
    case "cmd":
      return { shell: "powershell", script: [powershellAssignments(env), `$script = ${psQuote(script)}`, ...runFromTempFile("cmd")].join("\n") };
  }
}

function powershellAssignments(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([name, value]) => `$env:${name} = ${psQuote(value)}`)
    .join("\n");
}
