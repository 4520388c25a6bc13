/**
 * How a script becomes a guest-exec call per shell, and the guest-side commands the channel
 * itself needs (hashing an upload, flushing disks, killing a command that ran too long).
 */
import type { Shell } from "../../recipe/model.ts";
import { psQuote } from "../../util/powershell-quote.ts";
import { shQuote } from "../../util/sh-quote.ts";

export type GuestOs = "linux" | "windows";

export interface GuestProgram {
  readonly path: string;
  readonly arg: readonly string[];
}

export function programFor(shell: Shell, script: string): GuestProgram {
  switch (shell) {
    case "sh":
      return { path: "/bin/sh", arg: ["-c", script] };
    case "powershell":
      return { path: "powershell.exe", arg: ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", script] };
    case "cmd":
      return { path: "cmd.exe", arg: ["/c", script] };
  }
}

/** The shell each guest OS runs the channel's own commands in. */
export function nativeShell(os: GuestOs): Shell {
  return os === "windows" ? "powershell" : "sh";
}

/** Prints the lowercase hex sha256 of a guest file. */
export function sha256Command(os: GuestOs, guestPath: string): string {
  return os === "windows"
    ? `(Get-FileHash -Algorithm SHA256 -LiteralPath ${psQuote(guestPath)}).Hash.ToLower()`
    : `sha256sum -- ${shQuote(guestPath)}`;
}

/** Flushes file data to disk when the agent cannot freeze filesystems. */
export function flushCommand(os: GuestOs): string {
  return os === "windows" ? "Get-Volume | Where-Object DriveLetter | ForEach-Object { Write-VolumeCache -DriveLetter $_.DriveLetter }" : "sync";
}

/** Ends a guest-exec'd process and its children after a timeout or an abort. */
export function killCommand(os: GuestOs, pid: number): string {
  return os === "windows" ? `taskkill /F /T /PID ${pid}` : `kill -9 ${pid}`;
}
