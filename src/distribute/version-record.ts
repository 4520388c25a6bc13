/**
 * `version.json` beside a build's manifest: the build written as a PVS vDisk version of an earlier
 * build (`rebake version`), read by `rebake sync` to ship the version instead of the full vDisk.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export const VERSION_RECORD = "version.json";
export const VERSION_RECORD_FORMAT = "rebake-vdisk-version/1";

export interface VersionRecord {
  readonly format: typeof VERSION_RECORD_FORMAT;
  /** The disk locator every version of the chain belongs to: the base vDisk's name. */
  readonly vdisk: string;
  /** Version number: the file is `<vdisk>.<number>.avhdx`. */
  readonly number: number;
  /** The version file, relative to the manifest's directory. */
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  /** The parent's name at the sites (`<vdisk>.vhdx` or `<vdisk>.<number - 1>.avhdx`). */
  readonly parentFile: string;
  /** The parent's file on this machine, relative to the manifest's directory or absolute. */
  readonly parentPath: string;
  readonly parentSha256: string;
  /** `{...}`: the parent's DataWriteGuid, the version's parent_linkage. */
  readonly parentLinkage: string;
  readonly method: "layers" | "content";
  readonly methodReason: string;
}

export class VersionRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export const versionFileName = (vdisk: string, number: number) => `${vdisk}.${number}.avhdx`;

/** The record beside `manifestPath`; undefined when the build has none. */
export async function readVersionRecord(manifestPath: string): Promise<VersionRecord | undefined> {
  const file = join(dirname(manifestPath), VERSION_RECORD);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const record = JSON.parse(text) as Partial<VersionRecord>;
  if (record.format !== VERSION_RECORD_FORMAT || typeof record.sha256 !== "string" || !Number.isInteger(record.number)) {
    throw new VersionRecordError(`${file} is not a ${VERSION_RECORD_FORMAT} record; delete it and rerun rebake version`);
  }
  return record as VersionRecord;
}

export async function writeVersionRecord(manifestPath: string, record: VersionRecord): Promise<void> {
  const file = join(dirname(manifestPath), VERSION_RECORD);
  await writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}
