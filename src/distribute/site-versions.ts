/**
 * Finds the newest version of a vDisk family already at a site: the base a delta is built from.
 * The publish program names vDisks `<family>-<version>` (`ws2022-pvs-3.2.0.vhdx`), so the other
 * versions of the same image are the store's other `<family>-*.vhdx` files.
 */

/** Newest first; names whose suffix is not a version sort last, by name. */
export function otherVersions(names: readonly string[], family: string, target: string): string[] {
  const prefix = `${family}-`;
  return names
    .filter((n) => n.toLowerCase().endsWith(".vhdx") && n.startsWith(prefix) && n.slice(0, -5) !== target && !n.startsWith("."))
    .map((n) => n.slice(0, -5))
    .sort((a, b) => compareVersions(b.slice(prefix.length), a.slice(prefix.length)));
}

/** Numeric where both parts are numbers (`3.10.0` > `3.9.1`), text otherwise. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    const diff = Number.isNaN(nx) || Number.isNaN(ny) ? x.localeCompare(y) : nx - ny;
    if (diff !== 0) return diff;
  }
  return 0;
}
