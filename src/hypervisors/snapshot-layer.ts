/**
 * The layer reference of a driver whose checkpoints are snapshots of the build VM on the
 * hypervisor (vSphere, Xen Orchestra): which server, which VM, which snapshot, encoded as the
 * opaque `LayerRef` the runner hands back. One shape for both, so they check it alike: a driver
 * builds only on snapshots it took itself, on the server it talks to.
 */
import type { LayerRef } from "./driver.ts";

export interface SnapshotLayer {
  /** Which driver took it, e.g. "vsphere-snapshot". */
  readonly kind: string;
  /** The server it lives on. */
  readonly url: string;
  /** The snapshot's id or name, as the driver names it. */
  readonly snapshot: string;
  /** The VM that holds it, when the driver needs it to reach the snapshot. */
  readonly vm?: string;
}

export function encodeSnapshotLayer(layer: SnapshotLayer): LayerRef {
  return JSON.stringify(layer);
}

/**
 * The snapshot a layer reference names, when it is of `kind` and lives on `url`; otherwise the
 * error `refuse` makes, which says why and what to do.
 */
export function decodeSnapshotLayer(ref: LayerRef, expected: { readonly kind: string; readonly url: string }, refuse: (message: string) => Error): SnapshotLayer {
  let parsed: Partial<SnapshotLayer> | undefined;
  try {
    parsed = JSON.parse(ref) as Partial<SnapshotLayer>;
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.kind !== expected.kind || typeof parsed.snapshot !== "string" || typeof parsed.url !== "string") {
    throw refuse(`base layer ${ref.slice(0, 120)} is not a ${expected.kind} reference: this driver builds only on layers it checkpointed itself; rebuild with --no-cache`);
  }
  if (parsed.url !== expected.url) {
    throw refuse(`base layer ${parsed.snapshot} lives on ${parsed.url}, not on ${expected.url}: rebuild with --no-cache`);
  }
  return parsed as SnapshotLayer;
}
