/**
 * Sealing: the optimisation scripts, the cleanup actions, then generalising, then removing
 * rebake's own upload directory. For MCS a shutdown step follows; for PVS the runner captures
 * the disk offline right after a clean seal.
 */
import type { OsFamily } from "./model.ts";
import type { GuestCommand } from "./plan-model.ts";
import { PlanError } from "./plan-error.ts";
import { GUEST_UPLOAD_ROOT, guestCommand } from "./step-commands.ts";
import { shQuote } from "../util/sh-quote.ts";
import { psQuote } from "../util/powershell-quote.ts";

export const SEAL_TIMEOUT_SECONDS = 3600;

export class UnknownCleanupError extends PlanError {
  constructor(readonly action: string, readonly family: OsFamily) {
    super(
      `seal.cleanup names '${action}', which rebake does not know for ${family}; use one of: ${Object.keys(CLEANUP_ACTIONS[family]).join(", ")}, or write a seal script`,
    );
  }
}

/** The cleanup actions `seal.cleanup` may name, per family. */
export const CLEANUP_ACTIONS: Readonly<Record<OsFamily, Readonly<Record<string, string>>>> = {
  windows: {
    temp: "Get-ChildItem $env:TEMP, C:\\Windows\\Temp -Exclude rebake -ErrorAction SilentlyContinue | Remove-Item -Recurse -Force -ErrorAction SilentlyContinue",
    logs: "Remove-Item C:\\Windows\\Logs\\CBS\\*, C:\\Windows\\Logs\\DISM\\*, C:\\Windows\\Panther\\*.log -Force -ErrorAction SilentlyContinue",
    "windows-update-cache":
      "Stop-Service wuauserv, bits -Force -ErrorAction SilentlyContinue; Remove-Item C:\\Windows\\SoftwareDistribution\\Download\\* -Recurse -Force -ErrorAction SilentlyContinue",
    "event-logs": "wevtutil.exe el | ForEach-Object { wevtutil.exe cl \"$_\" 2>$null }",
    "component-store": "Dism.exe /Online /Cleanup-Image /StartComponentCleanup /ResetBase",
  },
  linux: {
    temp: "find /tmp /var/tmp -mindepth 1 -maxdepth 1 ! -name rebake -exec rm -rf {} +",
    logs: "journalctl --rotate >/dev/null 2>&1 || true; journalctl --vacuum-time=1s >/dev/null 2>&1 || true; find /var/log -type f -exec truncate -s 0 {} +",
    "package-cache":
      "if command -v apt-get >/dev/null 2>&1; then apt-get clean; elif command -v dnf >/dev/null 2>&1; then dnf clean all; elif command -v zypper >/dev/null 2>&1; then zypper clean --all; fi",
    "shell-history": "rm -f /root/.bash_history /home/*/.bash_history",
  },
};

/**
 * Every Windows master for MCS or PVS gets this: clones must not share one Windows Update
 * client identity (WSUS shows them as one machine), and a stale DNS cache leaks build-time names.
 */
const WINDOWS_CITRIX_CLEANUP = [
  "Stop-Service wuauserv -Force -ErrorAction SilentlyContinue",
  "Remove-ItemProperty -Path HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate -Name SusClientId, SusClientIdValidation -ErrorAction SilentlyContinue",
  "ipconfig.exe /flushdns | Out-Null",
].join("\n");

/** sysprep /quit leaves the machine running: the runner, not sysprep, decides what comes next. */
const WINDOWS_GENERALIZE = "& C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /quit /mode:vm\nexit $LASTEXITCODE";

const LINUX_GENERALIZE = [
  "set -eu",
  // An empty (not missing) machine-id makes systemd generate a fresh one on first boot.
  "truncate -s 0 /etc/machine-id",
  "rm -f /var/lib/dbus/machine-id",
  "rm -f /etc/ssh/ssh_host_*",
  "if command -v cloud-init >/dev/null 2>&1; then cloud-init clean --logs; fi",
  "journalctl --rotate >/dev/null 2>&1 || true; journalctl --vacuum-time=1s >/dev/null 2>&1 || true",
  "find /var/log -type f -exec truncate -s 0 {} +",
].join("\n");

export function cleanupCommands(family: OsFamily, actions: readonly string[]): GuestCommand[] {
  const shell = family === "windows" ? "powershell" : "sh";
  const commands = actions.map((action) => {
    const script = CLEANUP_ACTIONS[family][action];
    if (script === undefined) throw new UnknownCleanupError(action, family);
    return guestCommand(family, shell, script, [0], SEAL_TIMEOUT_SECONDS);
  });
  if (family === "windows") commands.push(guestCommand(family, shell, WINDOWS_CITRIX_CLEANUP, [0], SEAL_TIMEOUT_SECONDS));
  return commands;
}

export function generalizeCommand(family: OsFamily): GuestCommand {
  return family === "windows"
    ? guestCommand(family, "powershell", WINDOWS_GENERALIZE, [0], SEAL_TIMEOUT_SECONDS)
    : guestCommand(family, "sh", LINUX_GENERALIZE, [0], SEAL_TIMEOUT_SECONDS);
}

/** The last command of the seal: nothing rebake uploaded stays in the image. */
export function removeUploadsCommand(family: OsFamily): GuestCommand {
  const root = GUEST_UPLOAD_ROOT[family];
  return family === "windows"
    ? guestCommand(family, "powershell", `Remove-Item ${psQuote(root)} -Recurse -Force -ErrorAction SilentlyContinue`, [0])
    : guestCommand(family, "sh", `rm -rf ${shQuote(root)}`, [0]);
}
