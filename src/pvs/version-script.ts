/**
 * The PowerShell that makes a vDisk version what a stack's devices boot, through the
 * Citrix.PVS.SnapIn. Facts from citrix/provisioning-services-powershell-object-programming-guide
 * docs/cmdlets.md, section named beside each:
 * - Add-PvsDiskVersion: "Add one or more new Versions to a Disk. A manifest file for the new Disk
 *   Version(s) must exist in the Store". Export-PvsDisk "Export[s] the disk stack to a manifest
 *   file". The reference names neither that file nor its format, so rebake writes none: the
 *   manifest stays PVS's own (what Export-PvsDisk wrote where PVS has the chain), and without it
 *   Add-PvsDiskVersion refuses, which the script reports with the fix.
 * - Get-PvsDiskVersion: field Access 0 (Production), 1 (Maintenance), 2 (MaintenanceHighestVersion),
 *   3 (Override), 4 (Merge), 5 (MergeMaintenance), 6 (MergeTest), 7 (Test).
 * - Invoke-PvsPromoteDiskVersion: "Promotes the Maintenance version or a Test version to a Test or
 *   new Production version"; -Test sets the Maintenance version to Test; -TestVersion promotes
 *   that Test version to Production.
 * - Invoke-PvsRevertDiskVersion: "Set the existing highest version disk to Maintenance or Test
 *   mode" (-Test for Test); -Version reverts that version to Test "if there are no Production
 *   versions higher than it".
 * - Merge-PvsDisk -NewBase: "create a new base from last base plus all updates from that base";
 *   -Access 0 (Production), 1 (Test), 2 (Maintenance): note the other numbering than Get's Access.
 * - New-PvsDevice / Set-PvsDevice field Type: "1 when it performs test of Disks, 2 when it
 *   performs maintenance on Disks, 0 otherwise".
 * The reference does not say which access Add-PvsDiskVersion gives the added version, so the
 * script reads it back and moves it from whatever it is.
 */
import type { PvsAccessMode } from "../stacks/model.ts";
import { psQuote } from "./quote.ts";
import { RESULT_MARKER } from "./register-script.ts";
import { pvsPrelude, scriptText } from "./script-prelude.ts";

/** Get-PvsDiskVersion Access values (§ Get-PvsDiskVersion). */
export const VERSION_ACCESS = { production: 0, maintenance: 1, maintenanceHighest: 2, test: 7 } as const;
/** Merge-PvsDisk -Access values (§ Merge-PvsDisk). */
export const MERGE_ACCESS: Readonly<Record<PvsAccessMode, number>> = { production: 0, test: 1, maintenance: 2 };
/** New-PvsDevice / Set-PvsDevice -Type values (§ New-PvsDevice). */
export const DEVICE_TYPE: Readonly<Record<PvsAccessMode, number>> = { production: 0, test: 1, maintenance: 2 };

/** A chain of more versions than this is merged into a new base. */
export const DEFAULT_MAX_CHAIN = 5;

export interface VersionTarget {
  /** `Set-PvsConnection -Server`. */
  readonly connectionServer: string;
  readonly port: number;
  /** The disk locator the versions belong to. */
  readonly vdiskName: string;
  readonly storeName: string;
  readonly siteName: string;
}

export interface VersionRequest extends VersionTarget {
  /** The version: the store holds `<vdiskName>.<number>.avhdx`. */
  readonly number: number;
  /** The stack's access mode: dev boots maintenance, test the test version, prod production. */
  readonly accessMode: PvsAccessMode;
  /** @default DEFAULT_MAX_CHAIN */
  readonly maxChain?: number;
}

function header(target: VersionTarget): { lines: string[]; disk: string } {
  const disk = `-Name ${psQuote(target.vdiskName)} -SiteName ${psQuote(target.siteName)} -StoreName ${psQuote(target.storeName)}`;
  return { disk, lines: pvsPrelude({ server: target.connectionServer, port: target.port }) };
}

const highestLine = (disk: string) => `$highest = @(Get-PvsDiskVersion ${disk}) | Sort-Object -Property Version | Select-Object -Last 1`;

/** Moves the highest version to `mode` from whichever access it has. */
export function accessLines(disk: string, mode: PvsAccessMode): string[] {
  const a = VERSION_ACCESS;
  const maintenance = `($highest.Access -eq ${a.maintenance} -or $highest.Access -eq ${a.maintenanceHighest})`;
  const lines = [highestLine(disk)];
  if (mode === "maintenance") lines.push(`if (-not ${maintenance}) { Invoke-PvsRevertDiskVersion ${disk} }`);
  if (mode === "test") {
    lines.push(`if (${maintenance}) { Invoke-PvsPromoteDiskVersion ${disk} -Test }`, `elseif ($highest.Access -eq ${a.production}) { Invoke-PvsRevertDiskVersion ${disk} -Test }`);
  }
  if (mode === "production") {
    lines.push(`if (${maintenance}) { Invoke-PvsPromoteDiskVersion ${disk} }`, `elseif ($highest.Access -eq ${a.test}) { Invoke-PvsPromoteDiskVersion ${disk} -TestVersion $highest.Version }`);
  }
  return lines;
}

/**
 * Makes version `number` what the stack's devices boot: added when PVS lacks it; production
 * versions above it (a rollback) reverted to Test so production boots it again; then, as the
 * highest version, moved to the stack's access; a chain longer than the limit merged into a new
 * base. Rerunning it, or running it with the next stack's access (a promote), is safe.
 */
export function ensureVersionScript(request: VersionRequest): string {
  const { lines, disk } = header(request);
  const maxChain = request.maxChain ?? DEFAULT_MAX_CHAIN;
  const n = request.number;
  return scriptText([
    `# Generated by rebake: version ${n} of ${request.vdiskName} at ${request.siteName} for ${request.accessMode} devices.`,
    ...lines,
    `if (-not (@(Get-PvsDiskVersion ${disk}) | Where-Object { $_.Version -eq ${n} })) {`,
    `  Add-PvsDiskVersion ${disk}`,
    `  if (-not (@(Get-PvsDiskVersion ${disk}) | Where-Object { $_.Version -eq ${n} })) { throw 'Add-PvsDiskVersion did not add version ${n}: ${request.vdiskName}.${n}.avhdx and the manifest PVS exported for it must be in the store (rebake sync copies the version file)' }`,
    "}",
    // Highest first: a version can go back to Test only while no higher one is in Production.
    `foreach ($above in @(Get-PvsDiskVersion ${disk}) | Where-Object { $_.Version -gt ${n} -and $_.Access -eq ${VERSION_ACCESS.production} } | Sort-Object -Property Version -Descending) {`,
    `  Invoke-PvsRevertDiskVersion ${disk} -Version $above.Version`,
    "}",
    `if ((@(Get-PvsDiskVersion ${disk}) | Sort-Object -Property Version | Select-Object -Last 1).Version -eq ${n}) {`,
    ...accessLines(disk, request.accessMode).map((line) => `  ${line}`),
    "}",
    // A chain longer than the limit costs every read a hop: merged into a new base at the same access.
    `$merged = @(Get-PvsDiskVersion ${disk}).Count -gt ${maxChain}`,
    `if ($merged) { Merge-PvsDisk ${disk} -NewBase -Access ${MERGE_ACCESS[request.accessMode]} }`,
    `$version = @(Get-PvsDiskVersion ${disk}) | Where-Object { $_.Version -eq ${n} }`,
    `Write-Output ('${RESULT_MARKER}' + (@{ version = ${n}; access = $version.Access; merged = $merged } | ConvertTo-Json -Compress))`,
  ]);
}

/** The device boots the version of its stack's access: Set-PvsDevice -Type (§ New-PvsDevice Type). */
export function deviceAccessLine(deviceName: string, mode: PvsAccessMode): string {
  return `Set-PvsDevice -Name ${psQuote(deviceName)} -Type ${DEVICE_TYPE[mode]}`;
}
