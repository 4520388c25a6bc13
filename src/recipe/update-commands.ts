/**
 * The OS-updates step. Each run installs what is available and exits 3010 (194 on Linux, whose
 * exit status has 8 bits) when it installed something; the runner reboots and runs it again until it exits 0 (nothing left) or the
 * recipe's maxRounds runs out. That loop, not a fixed reboot count, is what ends the Windows
 * Update reboot loops Packer users fight.
 */
import type { OsFamily, Updates } from "./model.ts";
import { DEFAULT_UPDATE_ROUNDS } from "./normalize.ts";
import type { GuestCommand } from "./plan-model.ts";
import { LINUX_REBOOT_REQUIRED_CHECK, REBOOT_REQUIRED, exitStatus } from "./step-commands.ts";
import { shQuote } from "../util/sh-quote.ts";
import { psQuote } from "../util/powershell-quote.ts";

/** One round may download gigabytes and install a cumulative update. */
export const UPDATE_ROUND_TIMEOUT_SECONDS = 4 * 3600;
export function updatesCommand(family: OsFamily, updates: Updates): GuestCommand {
  const command = family === "windows" ? windowsUpdateScript(updates) : linuxUpdateScript(updates);
  const again = exitStatus(family, REBOOT_REQUIRED);
  return {
    shell: family === "windows" ? "powershell" : "sh",
    command,
    successCodes: [0, again],
    rebootCodes: [again],
    rerunCodes: [again],
    maxRuns: updates.maxRounds ?? DEFAULT_UPDATE_ROUNDS,
    timeoutSeconds: UPDATE_ROUND_TIMEOUT_SECONDS,
  };
}

/**
 * The Windows Update Agent COM API (Microsoft.Update.Session) is built in, so no module
 * (PSWindowsUpdate) has to be fetched from the internet first. Facts from Microsoft's reference
 * (https://learn.microsoft.com/windows/win32/api/wuapi/): IUpdateSearcher::Search takes the
 * criteria string and returns ISearchResult.Updates; IUpdate has KBArticleIDs, Categories
 * (ICategory.CategoryID), EulaAccepted and AcceptEula(); IUpdateInstaller::Install returns an
 * IInstallationResult whose ResultCode is an OperationResultCode (2 succeeded, 3 succeeded with
 * errors, 4 failed, 5 aborted).
 */
function windowsUpdateScript(updates: Updates): string {
  const exclude = (updates.exclude ?? []).map((id) => psQuote(id.replace(/^KB/i, ""))).join(", ");
  return [
    "$ErrorActionPreference = 'Stop'",
    `$securityOnly = $${updates.policy === "security"}`,
    // Category names are localised; the classification GUIDs are not (WSUS Classification GUIDs,
    // https://learn.microsoft.com/previous-versions/windows/desktop/ff357803(v=vs.85)).
    `$securityClasses = @('${SECURITY_UPDATES}', '${CRITICAL_UPDATES}')`,
    `$exclude = @(${exclude})`,
    "$session = New-Object -ComObject Microsoft.Update.Session",
    "$found = $session.CreateUpdateSearcher().Search(\"IsInstalled=0 and IsHidden=0 and Type='Software'\")",
    "$wanted = New-Object -ComObject Microsoft.Update.UpdateColl",
    "foreach ($update in $found.Updates) {",
    // -contains compares case-insensitively, as GUID text must be.
    "  $classes = @($update.Categories | ForEach-Object { $_.CategoryID })",
    "  if ($securityOnly -and @($classes | Where-Object { $securityClasses -contains $_ }).Count -eq 0) { continue }",
    "  if (@($update.KBArticleIDs | Where-Object { $exclude -contains $_ }).Count -gt 0) { continue }",
    "  if (-not $update.EulaAccepted) { $update.AcceptEula() }",
    "  [void]$wanted.Add($update)",
    "}",
    "if ($wanted.Count -eq 0) { Write-Output 'rebake: no updates left to install'; exit 0 }",
    "$downloader = $session.CreateUpdateDownloader(); $downloader.Updates = $wanted; [void]$downloader.Download()",
    "$installer = $session.CreateUpdateInstaller(); $installer.Updates = $wanted",
    "$result = $installer.Install()",
    "Write-Output \"rebake: installed $($wanted.Count) updates (result code $($result.ResultCode), reboot required: $($result.RebootRequired))\"",
    "# ResultCode 4 = failed, 5 = aborted; 2 and 3 mean installed (3: with errors on some).",
    "if ($result.ResultCode -ge 4) { exit 1 }",
    // Installed updates can make others applicable (a servicing stack before a cumulative update):
    // the runner reboots and runs this again until a search finds nothing.
    `exit ${REBOOT_REQUIRED}`,
  ].join("\n");
}

/** WSUS classification GUIDs of "Security Updates" and "Critical Updates". */
const SECURITY_UPDATES = "0FA1201D-4330-4FA8-8AE9-B877473B6441";
const CRITICAL_UPDATES = "E6CF1350-C01B-414D-A61F-263D14D133B4";

function linuxUpdateScript(updates: Updates): string {
  const exclude = updates.exclude ?? [];
  const held = exclude.map(shQuote).join(" ");
  const security = updates.policy === "security";
  const dnfExclude = exclude.map((name) => ` --exclude=${shQuote(name)}`).join("");
  return [
    "set -eu",
    "if command -v apt-get >/dev/null 2>&1; then",
    "  export DEBIAN_FRONTEND=noninteractive",
    "  apt-get update",
    ...(exclude.length ? [`  apt-mark hold ${held}`, `  trap 'apt-mark unhold ${held.replaceAll("'", `'\\''`)}' EXIT`] : []),
    security
      ? "  apt-get -s dist-upgrade | awk '/^Inst/ && /-security/ {print $2}' | xargs -r apt-get install -y --only-upgrade -o Dpkg::Options::=--force-confold"
      : "  apt-get dist-upgrade -y -o Dpkg::Options::=--force-confold",
    "elif command -v dnf >/dev/null 2>&1; then",
    `  dnf upgrade -y${security ? " --security" : ""}${dnfExclude}`,
    "elif command -v zypper >/dev/null 2>&1; then",
    `  zypper --non-interactive patch${security ? " --category security" : ""}`,
    "else",
    "  echo 'rebake: no apt-get, dnf or zypper in the guest; no OS updates to install'",
    "fi",
    ...LINUX_REBOOT_REQUIRED_CHECK,
    "exit 0",
  ].join("\n");
}
