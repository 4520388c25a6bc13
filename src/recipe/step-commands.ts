/**
 * Guest commands shared by every kind of step: where uploads land, placeholder filling, quoting,
 * exit-code conventions, and the default install commands for drivers, tools, VDA and the PVS
 * target-device software when a recipe does not give its own.
 */
import type { OsFamily, Shell, ToolsKind } from "./model.ts";
import type { GuestCommand } from "./plan-model.ts";
import { psQuote } from "../util/powershell-quote.ts";
import { shQuote } from "../util/sh-quote.ts";

/** Each step's inputs are uploaded to `<root>/<step-id>`; sealing removes the whole root. */
export const GUEST_UPLOAD_ROOT: Readonly<Record<OsFamily, string>> = {
  windows: "C:\\Windows\\Temp\\rebake",
  linux: "/var/tmp/rebake",
};

/** The exit code Windows installers use for "succeeded, reboot required" (ERROR_SUCCESS_REBOOT_REQUIRED). */
export const REBOOT_REQUIRED = 3010;

/**
 * A Linux exit status has 8 bits: sh's `exit 3010` leaves 194. Exit codes a recipe names (shared by
 * an app's Windows and Linux installs) are compared on Linux as the guest can report them.
 */
export function exitStatus(family: OsFamily, code: number): number {
  return family === "linux" ? code & 0xff : code;
}

/** What rebake's Linux commands exit with for "succeeded, reboot required": `exit 3010` as sh keeps it. */
export const LINUX_REBOOT_CODE = exitStatus("linux", REBOOT_REQUIRED);

/**
 * Exit codes for "succeeded, reboot required": on Windows 3010 and 1641 (the installer started a
 * reboot); on Linux what rebake's own scripts (and an installer's `exit 3010`) leave.
 */
export const REBOOT_EXIT_CODES: Readonly<Record<OsFamily, readonly number[]>> = {
  windows: [REBOOT_REQUIRED, 1641],
  linux: [LINUX_REBOOT_CODE],
};

export const DEFAULT_SHELL: Readonly<Record<OsFamily, Shell>> = { windows: "cmd", linux: "sh" };

/** Time limits for the commands rebake writes itself. */
export const INSTALL_TIMEOUT_SECONDS = 1800;
export const VDA_TIMEOUT_SECONDS = 3600;

export function guestUploadDir(family: OsFamily, stepId: string): string {
  return guestPath(family, GUEST_UPLOAD_ROOT[family], stepId);
}

export function guestPath(family: OsFamily, dir: string, name: string): string {
  return `${dir}${family === "windows" ? "\\" : "/"}${name}`;
}

export interface PlaceholderValues {
  readonly file?: string;
  readonly dir: string;
  readonly name?: string;
  readonly version?: string;
}

const PLACEHOLDER = /\{(file|dir|name|version)\}/g;

/**
 * Fills {file}, {dir}, {name} and {version}. Other braces are left alone: PowerShell script
 * blocks (`{ $_ }`) are not placeholders.
 */
export function fillPlaceholders(template: string, values: PlaceholderValues): string {
  return template.replace(PLACEHOLDER, (whole, key: keyof PlaceholderValues) => values[key] ?? whole);
}

/** The success codes that also ask for a reboot. */
export function rebootCodesFor(family: OsFamily, successCodes: readonly number[]): number[] {
  return successCodes.filter((code) => REBOOT_EXIT_CODES[family].includes(code));
}

/**
 * How Linux packages ask for a reboot, as LINUX_REBOOT_CODE: Debian and Ubuntu packages touch
 * /var/run/reboot-required; on RHEL-like systems `needs-restarting -r` exits 1.
 */
export const LINUX_REBOOT_REQUIRED_CHECK: readonly string[] = [
  `if [ -f /var/run/reboot-required ]; then exit ${LINUX_REBOOT_CODE}; fi`,
  `if command -v needs-restarting >/dev/null 2>&1 && ! needs-restarting -r >/dev/null 2>&1; then exit ${LINUX_REBOOT_CODE}; fi`,
];

/**
 * A Linux install whose reboot is "if-required": the command runs in a subshell (its own `exit`
 * and `set -e` stay inside), then a reboot the distribution's packages asked for becomes
 * LINUX_REBOOT_CODE.
 */
export function withLinuxRebootCheck(command: string): string {
  return ["(", command, ") || exit $?", ...LINUX_REBOOT_REQUIRED_CHECK, "exit 0"].join("\n");
}

/** A command with the usual reboot codes derived from its success codes. */
export function guestCommand(
  family: OsFamily,
  shell: Shell,
  command: string,
  successCodes: readonly number[],
  timeoutSeconds: number = INSTALL_TIMEOUT_SECONDS,
): GuestCommand {
  const codes = [...new Set(successCodes.map((code) => exitStatus(family, code)))];
  return { shell, command, successCodes: codes, rebootCodes: rebootCodesFor(family, codes), timeoutSeconds };
}

/**
 * Installs a package file or a package name with whatever package manager the guest has; the
 * recipe stays distribution-neutral.
 */
export function linuxPackageInstall(packageOrFile: string): string {
  const p = shQuote(packageOrFile);
  return [
    "set -eu",
    "if command -v apt-get >/dev/null 2>&1; then",
    `  DEBIAN_FRONTEND=noninteractive apt-get install -y ${p}`,
    "elif command -v dnf >/dev/null 2>&1; then",
    `  dnf install -y ${p}`,
    "elif command -v zypper >/dev/null 2>&1; then",
    `  zypper --non-interactive install ${p}`,
    "else",
    `  echo "rebake: no apt-get, dnf or zypper in the guest to install ${packageOrFile.replaceAll('"', "")}" >&2`,
    "  exit 1",
    "fi",
  ].join("\n");
}

const WINDOWS_INSTALLER_SUCCESS: readonly number[] = [0, REBOOT_REQUIRED, 1641];

/** Default silent installs for hypervisor tools, per family. */
export function defaultToolsInstall(family: OsFamily, kind: ToolsKind, hasInstaller: boolean): { command: string; shell: Shell; successCodes: readonly number[] } | undefined {
  if (family === "linux") {
    if (hasInstaller) return { command: linuxPackageInstall("{file}"), shell: "sh", successCodes: [0] };
    // Many images ship the tools with the OS (cloud images, the rebake test OS): then the step
    // confirms them instead of asking a package manager the guest may not have.
    const daemon = LINUX_TOOLS_DAEMON[kind];
    const command = [
      `if command -v ${daemon} >/dev/null 2>&1; then`,
      `  echo "${kind} already installed by the OS: $(command -v ${daemon})"`,
      "else",
      linuxPackageInstall(LINUX_TOOLS_PACKAGE[kind]).replace(/^/gm, "  "),
      "fi",
    ].join("\n");
    return { command, shell: "sh", successCodes: [0] };
  }
  if (!hasInstaller) return undefined;
  const command =
    kind === "vmware-tools"
      ? // The VMware Tools setup.exe wraps an MSI; REBOOT=R leaves the reboot to the runner.
        `"{file}" /S /v "/qn REBOOT=R"`
      : `msiexec.exe /i "{file}" /qn /norestart`;
  return { command, shell: "cmd", successCodes: WINDOWS_INSTALLER_SUCCESS };
}

/** The distribution package that ships each kind of tools on Linux. */
export const LINUX_TOOLS_PACKAGE: Readonly<Record<ToolsKind, string>> = {
  "vmware-tools": "open-vm-tools",
  "xenserver-vm-tools": "xe-guest-utilities",
  "qemu-guest-agent": "qemu-guest-agent",
};

/** The daemon each kind of tools runs on Linux: its presence means the tools are installed. */
const LINUX_TOOLS_DAEMON: Readonly<Record<ToolsKind, string>> = {
  "vmware-tools": "vmtoolsd",
  "xenserver-vm-tools": "xe-daemon",
  "qemu-guest-agent": "qemu-ga",
};

export function defaultDriverInstall(family: OsFamily): { command: string; shell: Shell; successCodes: readonly number[] } | undefined {
  if (family === "linux") return undefined;
  return { command: `pnputil.exe /add-driver "{file}" /install`, shell: "cmd", successCodes: [0, REBOOT_REQUIRED] };
}

/**
 * VDA meta-installer exit codes: 0 success, 3 partial success and reboot needed (reboot, then
 * run the same command again to resume), 8 success and reboot needed.
 */
export const VDA_SUCCESS_CODES: readonly number[] = [0, 3, 8];
export const VDA_REBOOT_CODES: readonly number[] = [3, 8];
export const VDA_RERUN_CODES: readonly number[] = [3];
/** A meta-installer bug can return 3 forever (CTX695811); three runs cover a real resume. */
export const VDA_MAX_RUNS = 3;

/** Flags the build needs whatever the recipe's options say: the runner owns every reboot. */
const VDA_REQUIRED_FLAGS = ["/quiet", "/noreboot", "/noresume"];
const VDA_MASTER_FLAG = { mcs: "/mastermcsimage", pvs: "/masterpvsimage" } as const;

export function vdaCommand(family: OsFamily, target: "mcs" | "pvs", options: readonly string[]): GuestCommand {
  if (family === "linux") {
    // Linux VDA: the package, then ctxsetup.sh configured by CTX_XDL_* variables in `options`.
    const setup = options.length
      ? `\nenv CTX_XDL_SILENT=Y ${options.map(shQuote).join(" ")} /opt/Citrix/VDA/sbin/ctxsetup.sh`
      : "";
    return guestCommand(family, "sh", `${linuxPackageInstall("{file}")}${setup}`, [0], VDA_TIMEOUT_SECONDS);
  }
  const given = options.map((o) => o.toLowerCase().split(/\s+/)[0]);
  const flags = [...VDA_REQUIRED_FLAGS, VDA_MASTER_FLAG[target]].filter((flag) => !given.includes(flag));
  return {
    shell: "cmd",
    command: [`"{file}"`, ...flags, ...options].join(" "),
    successCodes: VDA_SUCCESS_CODES,
    rebootCodes: VDA_REBOOT_CODES,
    rerunCodes: VDA_RERUN_CODES,
    maxRuns: VDA_MAX_RUNS,
    timeoutSeconds: VDA_TIMEOUT_SECONDS,
  };
}

export function defaultTargetDeviceInstall(family: OsFamily): { command: string; shell: Shell; successCodes: readonly number[] } {
  if (family === "linux") return { command: linuxPackageInstall("{file}"), shell: "sh", successCodes: [0] };
  // PVS_Device_x64.exe wraps an MSI; /norestart leaves the reboot to the runner.
  return { command: `"{file}" /s /v"/qn /norestart"`, shell: "cmd", successCodes: WINDOWS_INSTALLER_SUCCESS };
}

/** Runs an uploaded script file in its shell. */
export function scriptFileCommand(shell: Shell, path: string): string {
  switch (shell) {
    case "powershell":
      return `& ${psQuote(path)}; exit $LASTEXITCODE`;
    case "cmd":
      return `call "${path}"`;
    case "sh":
      return `sh ${shQuote(path)}`;
  }
}

/** The environment variable the runner fills from the join password's secret reference. */
export const JOIN_PASSWORD_ENV = "REBAKE_JOIN_PASSWORD";

/** Joins the domain; the password reaches the guest only as an environment variable. */
export function domainJoinCommand(family: OsFamily, join: { readonly domain: string; readonly ou?: string; readonly user: string }): GuestCommand {
  if (family === "windows") {
    const ou = join.ou ? ` -OUPath ${psQuote(join.ou)}` : "";
    const script = [
      "$ErrorActionPreference = 'Stop'",
      `$password = ConvertTo-SecureString $env:${JOIN_PASSWORD_ENV} -AsPlainText -Force`,
      `$credential = New-Object System.Management.Automation.PSCredential(${psQuote(join.user)}, $password)`,
      `Add-Computer -DomainName ${psQuote(join.domain)}${ou} -Credential $credential -Force`,
    ].join("\n");
    return guestCommand(family, "powershell", script, [0]);
  }
  const ou = join.ou ? ` --computer-ou=${shQuote(join.ou)}` : "";
  // realm reads the password from stdin when stdin is not a terminal.
  const script = `set -eu\nprintf '%s' "$${JOIN_PASSWORD_ENV}" | realm join --user=${shQuote(join.user)}${ou} ${shQuote(join.domain)}`;
  return guestCommand(family, "sh", script, [0]);
}
