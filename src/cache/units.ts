/** Sizes (`20G`, `512M`) and durations (`7d`, `30m`, `90s`) as given on the command line. */
const SIZE_UNITS: Readonly<Record<string, number>> = { "": 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export class UnitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnitError";
  }
}

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) throw new UnitError(`'${text}' is not a size: use a number with K, M, G or T, e.g. 20G`);
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2]!.toUpperCase()]!);
}

export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!match) throw new UnitError(`'${text}' is not a duration: use a number with s, m, h, d or w, e.g. 30m or 7d`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!);
}

export function formatSize(bytes: number): string {
  const units = ["B", "K", "M", "G", "T"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)}${units[unit]}`;
}
