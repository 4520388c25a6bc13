/**
 * The sidecar rebake writes beside each vDisk: `<name>.rebake.ini`. It records the sha256 (so a
 * rerun skips an identical vDisk without reading gigabytes back) and the properties PVS shows for
 * the vDisk. It is not the `.pvp`: that file is PVS's own binary format (a fixed 528,896-byte
 * structure), written by the PVS server when it registers the VHDX (New-PvsDiskLocator);
 * writing it here would hand PVS a file it cannot read.
 */

export const SIDECAR_SUFFIX = ".rebake.ini";

export type WriteCacheType =
  | "device-ram-with-overflow-on-disk"
  | "device-hard-disk"
  | "server-disk"
  | "device-ram";

/** What PVS shows in the vDisk properties dialog and rebake sets with Set-PvsDisk. */
export interface VdiskProperties {
  readonly description: string;
  readonly writeCacheType: WriteCacheType;
  /** RAM cache size for the RAM write-cache types. */
  readonly writeCacheSizeMiB: number;
  readonly recipe: string;
  readonly version: string;
  /** Content address of the recipe (manifest `recipe.hash`). */
  readonly recipeHash: string;
  readonly buildId: string;
}

export interface VdiskSidecar {
  readonly sha256: string;
  readonly size: number;
  readonly properties: VdiskProperties;
}

const PROPERTY_KEYS: readonly (keyof VdiskProperties)[] = ["description", "writeCacheType", "writeCacheSizeMiB", "recipe", "version", "recipeHash", "buildId"];

export function formatSidecar(vdisk: string, sidecar: VdiskSidecar): string {
  const lines = [
    `; written by rebake publish for ${vdisk}.vhdx; PVS keeps its own properties in ${vdisk}.pvp`,
    "[Content]",
    `Sha256=${sidecar.sha256}`,
    `Size=${sidecar.size}`,
    "",
    "[Properties]",
    ...PROPERTY_KEYS.map((key) => `${key[0]?.toUpperCase()}${key.slice(1)}=${oneLine(String(sidecar.properties[key]))}`),
  ];
  return `${lines.join("\r\n")}\r\n`;
}

/** The sidecar's content section; undefined for a file rebake did not write. */
export function parseSidecarContent(text: string): { readonly sha256: string; readonly size: number } | undefined {
  const sha = /^Sha256=([a-f0-9]{64})\r?$/m.exec(text)?.[1];
  const size = /^Size=(\d+)\r?$/m.exec(text)?.[1];
  return sha && size ? { sha256: sha, size: Number(size) } : undefined;
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, " ");
}
