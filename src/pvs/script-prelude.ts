/**
 * The start every generated PVS script shares (stop at the first error, load the snap-in, connect)
 * and the lookup that tells "absent" from "failed", for the scripts that look things up.
 *
 * Facts from Citrix's reference (citrix/provisioning-services-powershell-object-programming-guide):
 * - docs/index.md "Error Handling": a failing cmdlet leaves a PvsException in $error whose
 *   InnerException may be an EAException carrying `returnCode`.
 * - docs/error-codes.md: 43 InvalidDevice "The specified Device does not exist.", 44
 *   InvalidDiskLocator "The specified vDisk does not exist.", 50 InvalidDeviceDiskLocator, 98
 *   NotFound "[v1] not found.".
 * The reference does not say whether a Get-Pvs* of something absent returns nothing or raises one
 * of these, so the lookup accepts both, and any other error (a dropped connection, a wrong store)
 * still stops the script instead of reading as "absent".
 */
import { psQuote } from "./quote.ts";

/** docs/error-codes.md codes whose text says the object does not exist. */
export const PVS_ABSENT_ERROR_CODES = [43, 44, 50, 98] as const;

/** Runs a Get-Pvs* script block; nothing when the object is absent, whichever way PVS says so. */
export const FIND_FUNCTION = "Find-RebakePvsObject";

export interface PvsConnectionSettings {
  /** `Set-PvsConnection -Server`. */
  readonly server: string;
  readonly port: number;
}

export function pvsPrelude(connection: PvsConnectionSettings): string[] {
  return ["$ErrorActionPreference = 'Stop'", "Add-PSSnapin Citrix.PVS.SnapIn", `Set-PvsConnection -Server ${psQuote(connection.server)} -Port ${connection.port}`];
}

/** Defines FIND_FUNCTION; put it after the prelude of a script that uses it. */
export function findFunctionLines(): string[] {
  return [
    `function ${FIND_FUNCTION}([scriptblock] $Get) {`,
    "  try { return @(& $Get) } catch {",
    "    for ($e = $_.Exception; $e; $e = $e.InnerException) {",
    `      if ($e.GetType().Name -eq 'EAException' -and @(${PVS_ABSENT_ERROR_CODES.join(", ")}) -contains [int]$e.returnCode) { return @() }`,
    "    }",
    "    throw",
    "  }",
    "}",
  ];
}

/** A script's lines joined the way Windows PowerShell reads them. */
export function scriptText(lines: readonly string[]): string {
  return `${lines.join("\r\n")}\r\n`;
}
