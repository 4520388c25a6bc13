/**
 * Command lines the WinRM channel sends. A WinRS command runs through cmd.exe, whose command line
 * ends at 8191 characters: scripts that do not fit, and cmd scripts of more than one line, are
 * first written to a temp file in the guest in base64 chunks appended by PowerShell.
 */
import { psQuote } from "../../util/powershell-quote.ts";
import { encodedPowershell } from "../ssh/remote-command.ts";

/** cmd.exe's command-line limit (characters). */
export const COMMAND_LINE_LIMIT = 8191;

/** `powershell -EncodedCommand` for a script, or undefined when it would not fit the command line. */
export function inlinePowershell(script: string): string | undefined {
  const line = encodedPowershell(script);
  return line.length <= COMMAND_LINE_LIMIT ? line : undefined;
}

/** Runs a staged script file with its exit code. */
export function runScriptFile(shell: "powershell" | "cmd", guestPath: string): string {
  return shell === "powershell"
    ? `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "${guestPath}"`
    : `cmd.exe /d /c "${guestPath}"`;
}

/**
 * The command that writes one chunk: the first creates (truncates) the file, the rest append.
 * Plain -Command, not -EncodedCommand: base64 and a quoted path need no encoding, and the chunk
 * gets 2.7 times more of the command line.
 */
export function writeChunkCommand(guestPath: string, base64: string, first: boolean): string {
  return writeChunkTemplate(guestPath, first).replace(CHUNK_SLOT, base64);
}

/** The largest number of raw bytes whose base64 fits one chunk command for this path. */
export function chunkBytesFor(guestPath: string): number {
  const room = COMMAND_LINE_LIMIT - (writeChunkTemplate(guestPath, false).length - CHUNK_SLOT.length);
  return Math.floor(room / 4) * 3;
}

const CHUNK_SLOT = "@CHUNK@";

function writeChunkTemplate(guestPath: string, first: boolean): string {
  // A literal path inside double quotes for cmd.exe: '%' would expand, '"' would end the argument.
  if (/["%]/.test(guestPath)) throw new RangeError(`guest path must not contain '"' or '%', got: '${guestPath}'`);
  const mode = first ? "Create" : "Append";
  return `powershell.exe -NoProfile -NonInteractive -Command "$b=[Convert]::FromBase64String('${CHUNK_SLOT}');$f=[IO.File]::Open(${psQuote(guestPath)},[IO.FileMode]::${mode},[IO.FileAccess]::Write);$f.Write($b,0,$b.Length);$f.Close()"`;
}

export function sha256Powershell(guestPath: string): string {
  return `(Get-FileHash -Algorithm SHA256 -LiteralPath ${psQuote(guestPath)}).Hash.ToLower()`;
}

export function removeFilePowershell(guestPath: string): string {
  return `Remove-Item -LiteralPath ${psQuote(guestPath)} -Force -ErrorAction SilentlyContinue`;
}

/** Changes on every boot: how reboot() knows Windows really restarted. */
export const BOOT_ID_POWERSHELL = "(Get-CimInstance Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')";

/** A short delay lets the WinRS reply leave the guest before the network goes down. */
export function powerCommand(action: "reboot" | "poweroff"): string {
  return `shutdown.exe ${action === "reboot" ? "/r" : "/s"} /t 5 /f`;
}
