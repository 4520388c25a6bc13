/** One row of a device manifest: a PVS target device to create, and where the row came from. */

export const DEVICE_FIELDS = ["mac", "name", "collection", "site", "image"] as const;
export type DeviceField = (typeof DEVICE_FIELDS)[number];

/** Where a value sits in its file, 1-based. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** A row as read, before validation: fields may be missing. */
export interface RawDeviceRow {
  readonly file: string;
  readonly line: number;
  readonly values: Partial<Record<DeviceField, string>>;
  readonly positions: Partial<Record<DeviceField, Position>>;
}

/** A valid device. */
export interface DeviceRow {
  /** Normalised `AA-BB-CC-DD-EE-FF`. */
  readonly mac: string;
  readonly name: string;
  readonly collection: string;
  readonly site: string;
  /** A recipe name or a vDisk name the stack knows. */
  readonly image: string;
  readonly file: string;
  readonly line: number;
}
