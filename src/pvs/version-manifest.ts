/**
 * The version manifest: the file PVS's `Export-PvsDisk` writes ("Export the disk stack to a
 * manifest file", docs/cmdlets.md § Export-PvsDisk) and `Add-PvsDiskVersion` reads ("A manifest
 * file for the new Disk Version(s) must exist in the Store", § Add-PvsDiskVersion), in
 * citrix/provisioning-services-powershell-object-programming-guide.
 *
 * The reference names neither the file nor its format. rebake therefore never writes or parses
 * one: PVS's own Export-PvsDisk writes it at a site whose PVS already has the version, the script
 * reports which store files that call wrote (by name and write time, compared before and after),
 * and sync carries those files unchanged beside the version file to the other sites, whose
 * Add-PvsDiskVersion reads them. Everything about the manifest lives in this module.
 */
import { psQuote } from "./quote.ts";

/** The line the export script prints with the store files Export-PvsDisk wrote, as JSON. */
export const EXPORTED_MARKER = "REBAKE-EXPORTED ";

export interface ExportRequest {
  /** `-Name -SiteName -StoreName` of the disk locator, already quoted. */
  readonly disk: string;
  /** The store's directory as the PVS server sees it (`Get-PvsStore` Path). */
  readonly storePath: string;
  /** First version to export; the export runs to the highest (§ Export-PvsDisk `-Version`). */
  readonly fromVersion?: number;
}

/** PowerShell lines: Export-PvsDisk, then the store files it created or rewrote. */
export function exportManifestLines(request: ExportRequest): string[] {
  const store = psQuote(request.storePath);
  return [
    `$beforeExport = @{}; Get-ChildItem -LiteralPath ${store} -File | ForEach-Object { $beforeExport[$_.Name] = $_.LastWriteTimeUtc }`,
    `Export-PvsDisk ${request.disk}${request.fromVersion === undefined ? "" : ` -Version ${request.fromVersion}`}`,
    `$exported = @(Get-ChildItem -LiteralPath ${store} -File | Where-Object { -not $beforeExport.ContainsKey($_.Name) -or $beforeExport[$_.Name] -ne $_.LastWriteTimeUtc } | ForEach-Object { $_.Name })`,
    `Write-Output ('${EXPORTED_MARKER}' + (ConvertTo-Json -Compress -InputObject $exported))`,
  ];
}

/** The store files the export wrote, from the script's output; empty when it printed none. */
export function exportedFiles(stdout: string): string[] {
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith(EXPORTED_MARKER));
  if (!line) return [];
  const parsed = JSON.parse(line.slice(EXPORTED_MARKER.length)) as unknown;
  const names = Array.isArray(parsed) ? parsed : [parsed];
  return names.filter((n): n is string => typeof n === "string");
}
