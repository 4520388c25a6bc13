/**
 * What the SSH channel asks the remote login shell to run. Every step first reports its process id
 * on stderr (`rebake-pid N`): killing the local ssh client does not stop a command that has no
 * terminal, so on a timeout or abort the channel kills that process (group, tree) over a second
 * connection.
 *
 * Linux: the login shell runs `sh -c '<script>'` in place (exec), so the reported pid leads the
 * process group sshd created for the session. Windows OpenSSH: the default shell is cmd.exe with
 * an 8191-character command line, so a short PowerShell bootstrap travels as -EncodedCommand and
 * the script itself comes over stdin, is written to a temp .ps1/.cmd file and run from there.
 */
import type { Shell } from "../../recipe/model.ts";
import { GuestError } from "../channel.ts";
import { type GuestOs } from "../qga/guest-command.ts";
import { shQuote } from "../../util/sh-quote.ts";
import { psQuote } from "../../util/powershell-quote.ts";
import { runFromTempFile } from "../windows-script-file.ts";

export interface RemoteCommand {
  /** The command line the remote login shell runs. */
  readonly command: string;
  /** Sent on the ssh client's stdin; none means ssh -n. */
  readonly input?: string;
}

/** Linux passes one argument of at most 128 KiB to exec (MAX_ARG_STRLEN); keep a margin. */
export const MAX_SH_SCRIPT_BYTES = 120 * 1024;
const PID_MARKER = /^rebake-pid (\d+)$/;

export class UnsupportedShellError extends GuestError {}
export class ScriptTooLongError extends GuestError {}

export function remoteCommand(os: GuestOs, shell: Shell, script: string): RemoteCommand {
  if (os === "linux") {
    if (shell !== "sh") throw new UnsupportedShellError(`shell ${shell} needs a Windows guest, but this SSH channel's guest OS is linux: use shell sh, or set os: windows for a Windows OpenSSH server`);
    const bytes = Buffer.byteLength(script);
    if (bytes > MAX_SH_SCRIPT_BYTES) {
      throw new ScriptTooLongError(`the sh script is ${bytes} bytes, over the ${MAX_SH_SCRIPT_BYTES}-byte limit of one command-line argument: upload it as a file and run that file`);
    }
    return { command: `echo "rebake-pid $$" >&2; exec sh -c ${shQuote(script)} </dev/null` };
  }
  if (shell === "sh") throw new UnsupportedShellError("shell sh needs a Linux guest, but this SSH channel's guest OS is windows: use shell powershell or cmd");
  return { command: encodedPowershell(windowsBootstrap(shell)), input: script };
}

/** `powershell -EncodedCommand`: base64 of the UTF-16LE script, immune to cmd.exe's quoting. */
export function encodedPowershell(script: string): string {
  return `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${Buffer.from(script, "utf16le").toString("base64")}`;
}

/**
 * Reads the script from stdin as UTF-8 bytes (Console.In would decode with the OEM code page),
 * runs it from a temp file so `exit N` means what it means in a script file, and exits with its code.
 */
function windowsBootstrap(shell: "powershell" | "cmd"): string {
  return [
    "[Console]::Error.WriteLine('rebake-pid ' + $PID)",
    "try { [Console]::OutputEncoding = [Text.Encoding]::UTF8 } catch { }",
    "$in = [Console]::OpenStandardInput(); $buffer = New-Object IO.MemoryStream; $in.CopyTo($buffer)",
    "$script = [Text.Encoding]::UTF8.GetString($buffer.ToArray())",
    ...runFromTempFile(shell),
  ].join("\n");
}

/** Ends the step whose pid the marker reported, with everything it started. */
export function killCommand(os: GuestOs, pid: number): RemoteCommand {
  return { command: os === "windows" ? `taskkill /F /T /PID ${pid}` : `kill -KILL -- -${pid} 2>/dev/null || kill -KILL ${pid}` };
}

/** Prints an id that changes on every boot: how reboot() knows the guest really restarted. */
export function bootIdScript(os: GuestOs): string {
  return os === "windows" ? "(Get-CimInstance Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')" : "cat /proc/sys/kernel/random/boot_id";
}

/** Asks the OS to reboot or power off; non-root Linux accounts need passwordless sudo. */
export function powerScript(os: GuestOs, action: "reboot" | "poweroff"): string {
  if (os === "windows") return `shutdown.exe ${action === "reboot" ? "/r" : "/s"} /t 0 /f`;
  return `if [ "$(id -u)" -eq 0 ]; then ${action}; else sudo -n ${action}; fi`;
}

/** Prints the lowercase hex sha256 of a guest file. */
export function sha256Script(os: GuestOs, guestPath: string): string {
  return os === "windows" ? `(Get-FileHash -Algorithm SHA256 -LiteralPath ${psQuote(guestPath)}).Hash.ToLower()` : `sha256sum -- ${shQuote(guestPath)}`;
}

/**
 * Takes the `rebake-pid N` line out of a stderr stream chunk by chunk: lines before it (a login
 * shell's noise, ssh's own errors) pass through, a partial line waits until it is complete.
 */
export class PidMarkerFilter {
  private found: number | undefined;
  private pending = "";

  get pid(): number | undefined {
    return this.found;
  }

  /** The part of `chunk` that is the command's own stderr. */
  filter(chunk: string): string {
    if (this.found !== undefined) return chunk;
    this.pending += chunk;
    let passed = "";
    for (;;) {
      const end = this.pending.indexOf("\n");
      if (end < 0) return passed;
      const line = this.pending.slice(0, end + 1);
      this.pending = this.pending.slice(end + 1);
      const match = PID_MARKER.exec(line.trimEnd());
      if (match) {
        this.found = Number(match[1]);
        const rest = this.pending;
        this.pending = "";
        return passed + rest;
      }
      passed += line;
    }
  }

  /** What is still held back once the stream has ended. */
  flush(): string {
    const rest = this.pending;
    this.pending = "";
    return rest;
  }
}

/** A whole stderr text without the marker line. */
export function withoutPidMarker(stderr: string): string {
  const filter = new PidMarkerFilter();
  return filter.filter(stderr) + filter.flush();
}
