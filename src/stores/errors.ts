/** One error class per way a vDisk publish fails, each naming the vDisk, the store and the fix. */

export class StoreError extends Error {
  constructor(message: string, readonly store: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The store path does not exist or the SMB server does not answer. */
export class StoreUnreachableError extends StoreError {}

/** The store ran out of space during the copy (nothing is left under the final name). */
export class StoreFullError extends StoreError {}

/** PVS holds `<name>.lok`: a device or a maintenance session has the vDisk open. */
export class VdiskLockedError extends StoreError {}

/** A vDisk of the same name with different content is already in the store. */
export class VdiskConflictError extends StoreError {}

/** The copy in the store does not hash to the manifest's sha256. */
export class ChecksumMismatchError extends StoreError {}

/** Another publish of the same vDisk holds the publish lock and did not finish in time. */
export class VdiskBusyError extends StoreError {}
