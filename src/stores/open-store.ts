/** Picks the store implementation from the location the stack file gives. */
import { createExec, type Exec } from "../util/exec.ts";
import { FilesystemStore } from "./filesystem-store.ts";
import { SmbStore, type SmbCredentials } from "./smb-store.ts";
import type { VdiskStore } from "./store.ts";

export interface OpenStoreOptions {
  /** @default createExec() */
  readonly exec?: Exec;
  readonly credentials?: SmbCredentials;
}

export function openStore(location: string, options: OpenStoreOptions = {}): VdiskStore {
  if (location.startsWith("smb://")) return new SmbStore(location, options.exec ?? createExec(), options.credentials);
  return new FilesystemStore(location);
}
