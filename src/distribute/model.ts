/** What one sync moves, where to, and what it reports. */
import type { Blockmap } from "./blockmap.ts";
import type { SmbCredentials } from "../stores/smb-store.ts";
import type { VdiskProperties } from "../stores/vdisk-sidecar.ts";

/** The vDisk to distribute: a local file (the build's artifact or the HQ store's copy). */
export interface SyncSource {
  /** The file on this machine. */
  readonly path: string;
  /** vDisk name at the sites, without `.vhdx`: `<family>-<version>`. */
  readonly vdisk: string;
  /** The image's name without version: other versions at a site are `<family>-*.vhdx`. */
  readonly family: string;
  readonly blockmap: Blockmap;
  readonly properties: VdiskProperties;
  /** The build manifest the file belongs to, when it came from one (a `version.json` may sit beside it). */
  readonly manifestPath?: string;
}

export interface SyncSite {
  readonly name: string;
  /** A directory (local, UNC, a mounted share) or `smb://host[:port]/share/dir`. */
  readonly location: string;
  readonly credentials?: SmbCredentials;
}

export type SitePhase = "check" | "index" | "clone" | "transfer" | "verify";

export type SyncEvent =
  | { readonly type: "site-start"; readonly site: string; readonly at: string }
  | { readonly type: "site-progress"; readonly site: string; readonly phase: SitePhase; readonly done: number; readonly total: number; readonly at: string }
  | { readonly type: "site-end"; readonly at: string; readonly result: SiteResult };

export type SiteStatus = "skipped" | "delta" | "full" | "failed";

export interface SiteResult {
  readonly site: string;
  readonly location: string;
  readonly vdisk: string;
  readonly status: SiteStatus;
  /** Bytes read from the source and sent to the site. */
  readonly sentBytes: number;
  /** Bytes the site copied from its base version at other offsets. */
  readonly localBytes: number;
  /** The version the new file was built from. */
  readonly base?: string;
  /** Bytes a previous, interrupted run had already written. */
  readonly resumedBytes: number;
  readonly attempts: number;
  readonly durationMs: number;
  readonly error?: { readonly name: string; readonly message: string };
}
