/**
 * Small pieces of guest script the runner writes itself: creating the upload directory and
 * setting environment variables (resolved secrets) before a planned command. Values are quoted for
 * the shell that runs them, so a secret with quotes or spaces arrives intact.
 */
import { posix, win32 } from "node:path";
import type { OsFamily, Shell } from "../recipe/model.ts";
import { psQuote } from "../util/powershell-quote.ts";
import { shQuote } from "../util/sh-quote.ts";

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

/** The script with `env` set first, in the script's own shell. */
export function withEnvironment(shell: Shell, env: Readonly<Record<string, string>>, script: string): string {
  const names = Object.keys(env);
  if (names.length === 0) return script;
  const lines = names.map((name) => {
    const value = env[name]!;
    switch (shell) {
      case "sh":
        return `export ${name}=${shQuote(value)}`;
      case "powershell":
        return `$env:${name} = ${psQuote(value)}`;
      case "cmd":
        return `set "${name}=${value}"`;
    }
  });
  return `${lines.join("\n")}\n${script}`;
}
