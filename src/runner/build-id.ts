/** A build id: sortable by time, unique enough for parallel CI jobs, safe in file and VM names. */
import { randomBytes } from "node:crypto";

export function newBuildId(now: Date, random: () => string = () => randomBytes(2).toString("hex")): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${random()}`;
}
