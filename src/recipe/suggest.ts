/**
 * "Did you mean ...?" for misspelt keys and enum values.
 */

/** Shorter words tolerate fewer edits: "cpu" -> "gpu" is a different word, "vdiskNme" is a typo. */
const EDITS_PER_CHARACTER = 1 / 3;
/** A prefix this long or longer is taken as an abbreviation: "memory" -> "memoryMiB". */
const MIN_PREFIX_LENGTH = 4;

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
 * adjacent characters each cost one, so "vdsikName" is one edit from "vdiskName".
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * cols + j] = best;
    }
  }
  return at(rows - 1, cols - 1);
}

/**
 * The candidate closest to `word`, or undefined when none is close enough to be a likely typo.
 * Case is ignored when comparing ("VdiskName" suggests "vdiskName").
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length * EDITS_PER_CHARACTER));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const other = candidate.toLowerCase();
    const distance = editDistance(lower, other);
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  if (lower.length < MIN_PREFIX_LENGTH) return undefined;
  return candidates.find((candidate) => {
    const other = candidate.toLowerCase();
    return other.startsWith(lower) || (other.length >= MIN_PREFIX_LENGTH && lower.startsWith(other));
  });
}
