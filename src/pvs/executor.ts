/**
 * Runs a PowerShell script where Citrix's snap-ins live: Windows PowerShell 5.1 (powershell.exe),
 * on the Citrix server over SSH (OpenSSH for Windows) or WinRM, or on this machine when it is
 * Windows. The PVS SDK is a snap-in (Citrix's reference, docs/index.md: "Add-PSSnapin -Name
 * Citrix.PVS.SnapIn"), so are the Delivery Controller's MCS and Broker SDKs (citrix/citrix-mcs-sdk-samples
 * Update-MasterImage.ps1: "Add-PSSnapin citrix*"), and PowerShell 6 and later load no snap-ins, so
 * pwsh cannot run these scripts. One executor serves both: the role names the scripts, the server
 * and the stack key in messages.
 *
 * Over SSH and locally the script travels on stdin, so it is never split, quoted or length-limited
 * by a command line. A short bootstrap (-EncodedCommand, immune to cmd.exe's and PowerShell's quoting) reads it as
 * UTF-8 and runs it as one script block: with `-Command -` PowerShell would run stdin line by line
 * like a prompt and carry on after a failed line, and a failed registration could still exit 0.
 * Over WinRM the guest channel's own transport runs it (-EncodedCommand, or a staged .ps1 when it
 * is long): one block either way.
 */
import { readFileSync } from "node:fs";
import { GuestError } from "../guest/channel.ts";
import { WinrmChannel } from "../guest/winrm/winrm-channel.ts";
import { resolveSecret } from "../recipe/secrets.ts";
import type { Exec, ExecResult } from "../util/exec.ts";
import type { PowerShellExecutorConfig } from "../stacks/model.ts";

/** Windows PowerShell 5.1, the PowerShell that loads snap-ins. */
export const WINDOWS_POWERSHELL = "powershell.exe";

/**
 * Reads stdin as UTF-8 bytes (Console.In would decode with the OEM code page) and runs it as one
 * script block: the first terminating error ends the script and powershell.exe exits 1.
 */
const BOOTSTRAP = [
  "try { [Console]::OutputEncoding = [Text.Encoding]::UTF8 } catch { }",
  "$in = [Console]::OpenStandardInput(); $buffer = New-Object IO.MemoryStream; $in.CopyTo($buffer)",
  "& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString($buffer.ToArray())))",
].join("\n");

/** No profile, no prompts; -OutputFormat Text keeps errors readable (not CLIXML) on a redirected stderr. */
export const POWERSHELL_ARGS: readonly string[] = [
  "-NoProfile",
  "-NonInteractive",
  "-ExecutionPolicy",
  "Bypass",
  "-OutputFormat",
  "Text",
  "-EncodedCommand",
  Buffer.from(BOOTSTRAP, "utf16le").toString("base64"),
];

/** A PVS import of a large vDisk is slow, but not this slow. */
export const DEFAULT_SCRIPT_TIMEOUT_MS = 30 * 60 * 1000;
/** ssh's own exit code for a connection or authentication failure. */
const SSH_FAILURE_EXIT = 255;

export class PowerShellError extends Error {
  constructor(message: string, readonly where: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** executor kind local on a machine that has no Windows PowerShell. */
export class ExecutorPlatformError extends PowerShellError {}

/** What the executor runs scripts for, in the words of its messages. */
export interface ExecutorRole {
  /** e.g. "PVS script" */
  readonly script: string;
  /** e.g. "PVS server" */
  readonly server: string;
  /** The stack key that configures the executor, e.g. "pvs.executor". */
  readonly key: string;
  /** The snap-in the scripts load. */
  readonly snapIn: string;
}

export const PVS_ROLE: ExecutorRole = { script: "PVS script", server: "PVS server", key: "pvs.executor", snapIn: "Citrix.PVS.SnapIn" };

export interface PowerShellExecutor {
  /** Where the script runs, for messages. */
  readonly where: string;
  run(script: string, options?: { readonly signal?: AbortSignal }): Promise<ExecResult>;
}

function failed(result: ExecResult, where: string, role: ExecutorRole): PowerShellError {
  return new PowerShellError(`the ${role.script} failed on ${where} with exit code ${result.exitCode}:\n${(result.stderr || result.stdout).trim()}`, where);
}

/** Windows PowerShell on this machine, which must be Windows. */
export function localExecutor(exec: Exec, platform: NodeJS.Platform = process.platform, role: ExecutorRole = PVS_ROLE): PowerShellExecutor {
  const where = `local ${WINDOWS_POWERSHELL}`;
  if (platform !== "win32") {
    throw new ExecutorPlatformError(
      `${role.key} kind local runs the ${role.script}s with Windows PowerShell 5.1 (${WINDOWS_POWERSHELL}) and the ${role.snapIn} on this machine, but this machine runs ${platform}, which has neither (pwsh cannot load snap-ins): set ${role.key} to kind ssh or winrm with the ${role.server}'s host and user`,
      where,
    );
  }
  return {
    where,
    async run(script, options) {
      const result = await exec(WINDOWS_POWERSHELL, POWERSHELL_ARGS, { input: script, nothrow: true, timeoutMs: DEFAULT_SCRIPT_TIMEOUT_MS, ...(options?.signal ? { signal: options.signal } : {}) });
      if (result.exitCode !== 0) throw failed(result, where, role);
      return result;
    },
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

/** Windows PowerShell on the Citrix server through `ssh`; host keys must be known (no blind trust). */
export function sshExecutor(exec: Exec, target: SshTarget, role: ExecutorRole = PVS_ROLE): PowerShellExecutor {
  const where = `${target.user}@${target.host}:${target.port}`;
  const args = [
    "-p", String(target.port),
    "-o", "BatchMode=yes",
    ...(target.identityFile ? ["-i", target.identityFile, "-o", "IdentitiesOnly=yes"] : []),
    ...(target.options ?? []).flatMap((option) => ["-o", option]),
    `${target.user}@${target.host}`,
    WINDOWS_POWERSHELL, ...POWERSHELL_ARGS,
  ];
  return {
    where,
    async run(script, options) {
      const result = await exec("ssh", args, { input: script, nothrow: true, timeoutMs: DEFAULT_SCRIPT_TIMEOUT_MS, ...(options?.signal ? { signal: options.signal } : {}) });
      if (result.exitCode === SSH_FAILURE_EXIT) {
        throw new PowerShellError(`cannot reach the ${role.server} over SSH (${where}): ${result.stderr.trim()}; check the executor host, user and key in the stack file and that the host key is in known_hosts`, where);
      }
      if (result.exitCode !== 0) throw failed(result, where, role);
      return result;
    },
  };
}

export type WinrmExecutorConfig = Extract<PowerShellExecutorConfig, { kind: "winrm" }>;

/** Windows PowerShell on the Citrix server through WinRM; the password is read from its reference per run. */
export function winrmExecutor(config: WinrmExecutorConfig, env: NodeJS.ProcessEnv, readCa: (path: string) => string = (path) => readFileSync(path, "utf8"), role: ExecutorRole = PVS_ROLE): PowerShellExecutor {
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `${config.https ? "https" : "http"}://${host}:${config.port}/wsman`;
  const where = `${config.user}@${url}`;
  const channel = new WinrmChannel({ url, user: config.user, password: () => resolveSecret(config.password, { env }), ...(config.caPath ? { ca: readCa(config.caPath) } : {}) });
  return {
    where,
    async run(script, options) {
      let result: ExecResult;
      try {
        const ran = await channel.exec(script, { shell: "powershell", timeoutMs: DEFAULT_SCRIPT_TIMEOUT_MS, ...(options?.signal ? { signal: options.signal } : {}) });
        result = { command: `${WINDOWS_POWERSHELL} on ${where}`, ...ran };
      } catch (error) {
        if (!(error instanceof GuestError)) throw error;
        throw new PowerShellError(`cannot run the ${role.script} over WinRM (${where}): ${error.message}; check the executor host, user, password and https settings in the stack file`, where);
      }
      if (result.exitCode !== 0) throw failed(result, where, role);
      return result;
    },
  };
}

export function executorFor(config: PowerShellExecutorConfig, exec: Exec, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, role: ExecutorRole = PVS_ROLE): PowerShellExecutor {
  switch (config.kind) {
    case "local":
      return localExecutor(exec, platform, role);
    case "ssh":
      return sshExecutor(exec, config, role);
    case "winrm":
      return winrmExecutor(config, env, undefined, role);
  }
}
