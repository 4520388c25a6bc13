/**
 * Finds OVMF (Debian package `ovmf`) for UEFI guests. The code image is shared read-only; each VM
 * gets its own copy of the variable store so boot entries written by an installer stay with it.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { HypervisorError } from "../driver.ts";

export const OVMF_DIRS: readonly string[] = ["/usr/share/OVMF"];

export interface UefiFirmware {
  /** Read-only code image. */
  readonly code: string;
  /** Template of the variable store, copied per VM. */
  readonly varsTemplate: string;
  /** Secure boot variant (Microsoft keys enrolled): needs q35 with SMM. */
  readonly secureBoot: boolean;
}

/** Pairs of code and vars files, preferred first; the 4M builds are what current OVMF ships. */
const CANDIDATES: Readonly<Record<"secure" | "plain", readonly (readonly [string, string])[]>> = {
  secure: [
    ["OVMF_CODE_4M.ms.fd", "OVMF_VARS_4M.ms.fd"],
    ["OVMF_CODE.ms.fd", "OVMF_VARS.ms.fd"],
  ],
  plain: [
    ["OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"],
    ["OVMF_CODE.fd", "OVMF_VARS.fd"],
  ],
};

export class FirmwareNotFoundError extends HypervisorError {}

export function findUefiFirmware(
  secureBoot: boolean,
  options: { readonly dirs?: readonly string[]; readonly exists?: (file: string) => boolean } = {},
): UefiFirmware {
  const dirs = options.dirs ?? OVMF_DIRS;
  const exists = options.exists ?? existsSync;
  const pairs = CANDIDATES[secureBoot ? "secure" : "plain"];
  for (const dir of dirs) {
    for (const [code, vars] of pairs) {
      const codePath = path.join(dir, code);
      const varsPath = path.join(dir, vars);
      if (exists(codePath) && exists(varsPath)) return { code: codePath, varsTemplate: varsPath, secureBoot };
    }
  }
  const wanted = pairs.map(([code, vars]) => `${code} + ${vars}`).join(" or ");
  throw new FirmwareNotFoundError(
    `no ${secureBoot ? "secure boot " : ""}UEFI firmware (${wanted}) in ${dirs.join(", ")}: install the Debian package ovmf (apt-get install ovmf)`,
  );
}
