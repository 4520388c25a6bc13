/**
 * Runs a PowerShell script where the Citrix.PVS.SnapIn lives: locally on a Windows machine, or on
 * the PVS server over SSH (OpenSSH for Windows). The script always travels on stdin, so it is
 * never split, quoted or length-limited by a command line.
 */
import type { Exec, ExecResult } from "../util/exec.ts";
import type { PvsExecutorConfig } from "../stacks/model.ts";

/** `-Command -` reads the script from stdin; no profile, no prompts. */
const POWERSHELL_ARGS = ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", "-"];
/** A PVS import of a large vDisk is slow, but not this slow. */
export const DEFAULT_SCRIPT_TIMEOUT_MS = 30 * 60 * 1000;

export class PowerShellError extends Error {
  constructor(message: string, readonly where: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface PowerShellExecutor {
  /** Where the script runs, for messages. */
  readonly where: string;
  run(script: string, options?: { readonly signal?: AbortSignal }): Promise<ExecResult>;
}

/** PowerShell on this machine: `pwsh` (7) when present, else Windows PowerShell. */
export function localExecutor(exec: Exec, shell: "pwsh" | "powershell" = process.platform === "win32" ? "powershell" : "pwsh"): PowerShellExecutor {
  return {
    where: `local ${shell}`,
    run: (script, options) => exec(shell, POWERSHELL_ARGS, { input: script, timeoutMs: DEFAULT_SCRIPT_TIMEOUT_MS, ...(options?.signal ? { signal: options.signal } : {}) }),
  };
}

export interface SshTarget {
  readonly host: string;
  readonly user: string;
  readonly port: number;
  readonly identityFile?: string;
  /** Extra `-o` options, e.g. a known-hosts file. */
  readonly options?: readonly string[];
}

/** PowerShell on the PVS server through `ssh`; host keys must be known (no blind trust). */
export function sshExecutor(exec: Exec, target: SshTarget): PowerShellExecutor {
  const where = `${target.user}@${target.host}:${target.port}`;
  const args = [
    "-p", String(target.port),
    "-o", "BatchMode=yes",
    ...(target.identityFile ? ["-i", target.identityFile, "-o", "IdentitiesOnly=yes"] : []),
    ...(target.options ?? []).flatMap((option) => ["-o", option]),
    `${target.user}@${target.host}`,
    "powershell", ...POWERSHELL_ARGS,
  ];
  return {
    where,
    async run(script, options) {
      const result = await exec("ssh", args, { input: script, nothrow: true, timeoutMs: DEFAULT_SCRIPT_TIMEOUT_MS, ...(options?.signal ? { signal: options.signal } : {}) });
      if (result.exitCode === 255) {
        throw new PowerShellError(`cannot reach the PVS server over SSH (${where}): ${result.stderr.trim()}; check the executor host, user and key in the stack file and that the host key is in known_hosts`, where);
      }
      if (result.exitCode !== 0) {
        throw new PowerShellError(`the PVS script failed on ${where} with exit code ${result.exitCode}:\n${(result.stderr || result.stdout).trim()}`, where);
      }
      return result;
    },
  };
}

export function executorFor(config: PvsExecutorConfig, exec: Exec): PowerShellExecutor {
  return config.kind === "local" ? localExecutor(exec) : sshExecutor(exec, config);
}
