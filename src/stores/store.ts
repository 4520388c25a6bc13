/**
 * What the vDisk publisher needs from a PVS store, whatever reaches it: a filesystem path (local,
 * UNC on Windows, a mounted share) or an SMB share through smbclient.
 */

export interface StoreEntry {
  readonly size: number;
}

export interface VdiskStore {
  /** The store as the user wrote it, for messages. */
  readonly location: string;
  /** Throws StoreUnreachableError when the store cannot be reached. */
  probe(): Promise<void>;
  stat(name: string): Promise<StoreEntry | undefined>;
  /** Small text files (sidecars); undefined when absent. */
  readText(name: string): Promise<string | undefined>;
  /** Writes a small text file atomically (temp name, then rename). */
  writeText(name: string, text: string): Promise<void>;
  /**
   * Copies a local file to `temp` in the store, flushed to stable storage; the caller verifies and
   * renames. A failure removes `temp`.
   */
  upload(localPath: string, temp: string, signal?: AbortSignal): Promise<void>;
  /** sha256 of a store file, read back from the store. */
  sha256(name: string): Promise<string>;
  /** Renames within the store, replacing nothing: fails when `to` exists. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; absent is fine. */
  remove(name: string): Promise<void>;
  /** Names in the store directory. */
  list(): Promise<string[]>;
  /** Creates `name` only if it does not exist (O_EXCL); false when it exists. */
  createExclusive(name: string, text: string): Promise<boolean>;
}
