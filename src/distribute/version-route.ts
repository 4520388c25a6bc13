/**
 * Whether a site gets a vDisk version (the `.avhdx` alone) or the full vDisk of the same build.
 * Pure: what the site holds and the two sizes in, the route and its reason out, so every sync says
 * which it chose and why.
 */

/** A version larger than half the full vDisk saves too little to be worth a longer chain. */
export const DEFAULT_MAX_DELTA_FRACTION = 0.5;

/** What the site holds under the parent's name. */
export type ParentAtSite =
  | { readonly kind: "present" }
  | { readonly kind: "missing" }
  /** A file of that name whose DataWriteGuid (or recorded sha256) is not the version's parent. */
  | { readonly kind: "other"; readonly found: string };

export type VersionRoute = { readonly kind: "version" | "full"; readonly reason: string };

export interface RouteInput {
  readonly parentFile: string;
  readonly parent: ParentAtSite;
  readonly versionSize: number;
  readonly fullSize: number;
  /** @default DEFAULT_MAX_DELTA_FRACTION */
  readonly maxDeltaFraction?: number;
}

export function chooseRoute(input: RouteInput): VersionRoute {
  const limit = input.maxDeltaFraction ?? DEFAULT_MAX_DELTA_FRACTION;
  if (input.parent.kind === "missing") return { kind: "full", reason: `the site has no ${input.parentFile}, the parent the version is written against` };
  if (input.parent.kind === "other") return { kind: "full", reason: `the site's ${input.parentFile} is not the version's parent (${input.parent.found})` };
  const fraction = input.versionSize / input.fullSize;
  if (fraction > limit) return { kind: "full", reason: `the version is ${(fraction * 100).toFixed(1)}% of the full vDisk, above the ${(limit * 100).toFixed(0)}% limit` };
  return { kind: "version", reason: `the site has the parent ${input.parentFile}; the version is ${(fraction * 100).toFixed(1)}% of the full vDisk` };
}
