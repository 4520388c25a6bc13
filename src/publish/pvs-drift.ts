/**
 * What a PVS stack's pin means in PVS, and the drift between that and what PVS has registered
 * (read by the status script, src/pvs/served-script.ts).
 *
 * A full vDisk is the disk locator named `<artifact>-<recipe version>` (published-vdisk.ts); a
 * vDisk version (`rebake version`, version.json) is version `number` of the locator `vdisk`. The
 * stack's access mode is the access its version must have: dev Maintenance, test Test, prod
 * Production. Access codes from citrix/provisioning-services-powershell-object-programming-guide
 * docs/citrix-pvs-snapin-namespace.md § PvsDiskVersion ("0 (Production), 1 (Maintenance),
 * 2 (MaintenanceHighestVersion), 3 (Override), 4 (Merge), 5 (MergeMaintenance), 6 (MergeTest),
 * and 7 (Test)"). Production devices boot the highest Production version, so a higher one than
 * the pinned version is drift too.
 */
import type { VersionRecord } from "../distribute/version-record.ts";
import type { BuildManifest } from "../manifest/model.ts";
import type { RegisteredInSite } from "../pvs/served-script.ts";
import { VERSION_ACCESS } from "../pvs/version-script.ts";
import type { PvsAccessMode } from "../stacks/model.ts";
import { publishedVdiskName, vhdxOf } from "../stores/published-vdisk.ts";

const ACCESS_NAMES = ["Production", "Maintenance", "MaintenanceHighestVersion", "Override", "Merge", "MergeMaintenance", "MergeTest", "Test"] as const;

/** The Access codes a stack's access mode accepts. */
const ACCEPTED: Readonly<Record<PvsAccessMode, readonly number[]>> = {
  production: [VERSION_ACCESS.production],
  maintenance: [VERSION_ACCESS.maintenance, VERSION_ACCESS.maintenanceHighest],
  test: [VERSION_ACCESS.test],
};
const MODE_NAMES: Readonly<Record<PvsAccessMode, string>> = { production: "Production", maintenance: "Maintenance", test: "Test" };

export const accessName = (code: number): string => ACCESS_NAMES[code] ?? `access ${code}`;

export interface PvsPin {
  /** The disk locator's name. */
  readonly vdisk: string;
  /** A vDisk version's number; absent for a full vDisk, whose base or maintenance version carries the access. */
  readonly version?: number;
  readonly accessMode: PvsAccessMode;
}

/** The pin of a PVS stack; undefined when the build publishes no vDisk. */
export function pvsPinOf(manifest: BuildManifest, record: VersionRecord | undefined, accessMode: PvsAccessMode): PvsPin | undefined {
  if (record) return { vdisk: record.vdisk, version: record.number, accessMode };
  const vhdx = vhdxOf(manifest);
  return vhdx ? { vdisk: publishedVdiskName(manifest, vhdx), accessMode } : undefined;
}

const listed = (versions: readonly { version: number; access: number }[]) => versions.map((v) => `${v.version} ${accessName(v.access)}`).join(", ") || "none";

/** Drift per site; a site PVS would not list is not drift (status names it as not read). */
export function pvsDriftOf(pin: PvsPin, sites: readonly RegisteredInSite[]): string[] {
  const drift: string[] = [];
  const wanted = MODE_NAMES[pin.accessMode];
  for (const site of sites) {
    if ("error" in site) continue;
    const at = `site ${site.siteName}: PVS`;
    const vdisk = site.vdisks.find((d) => d.name === pin.vdisk);
    if (!vdisk) {
      drift.push(`${at} has no vDisk ${pin.vdisk} in store ${site.storeName}`);
      continue;
    }
    const ok = (access: number) => ACCEPTED[pin.accessMode].includes(access);
    if (pin.version === undefined) {
      if (!vdisk.versions.some((v) => ok(v.access))) drift.push(`${at} vDisk ${pin.vdisk} has no ${wanted} version (accessMode ${pin.accessMode}); its versions: ${listed(vdisk.versions)}`);
      continue;
    }
    const pinned = vdisk.versions.find((v) => v.version === pin.version);
    if (!pinned) drift.push(`${at} vDisk ${pin.vdisk} has no version ${pin.version}; its versions: ${listed(vdisk.versions)}`);
    else if (!ok(pinned.access)) drift.push(`${at} vDisk ${pin.vdisk} version ${pin.version} is ${accessName(pinned.access)}, not ${wanted} (accessMode ${pin.accessMode})`);
    if (pin.accessMode !== "production") continue;
    for (const above of vdisk.versions.filter((v) => v.version > pin.version! && v.access === VERSION_ACCESS.production)) {
      drift.push(`${at} vDisk ${pin.vdisk} version ${above.version} is also Production, so production devices boot it instead of the pinned ${pin.version}`);
    }
  }
  return drift;
}
