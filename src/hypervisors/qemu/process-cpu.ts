/**
 * CPU time a process has used, from /proc/<pid>/stat (utime + stime, fields 14 and 15, in clock
 * ticks; proc(5)). A VM whose qemu uses no CPU, writes nothing to its disk and prints nothing is
 * not making progress, whatever it is waiting for.
 */
import { readFile } from "node:fs/promises";

/** USER_HZ: 100 on every Linux architecture rebake runs on (x86_64, arm64). */
const CLOCK_TICKS_PER_SECOND = 100;

export async function processCpuMs(pid: number, procRoot = "/proc"): Promise<number> {
  return parseCpuMs(await readFile(`${procRoot}/${pid}/stat`, "utf8"));
}

/** The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'. */
export function parseCpuMs(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), so fields 14 and 15 are rest[11] and rest[12].
  const ticks = Number(rest[11]) + Number(rest[12]);
  if (!Number.isFinite(ticks)) throw new Error(`cannot read CPU time from /proc stat line: ${stat.slice(0, 80)}`);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}
