/**
 * The publish record: written beside a version's manifest (`publish.<stack>.json`) when a publish
 * to a stack succeeds. Promote asks for it (a version must have been published in the lower
 * stack), rollback reads the history of records, status shows it.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeJsonAtomic } from "../manifest/write-manifest.ts";

export interface PublishRecord {
  readonly stack: string;
  readonly recipe: string;
  readonly version: string;
  readonly recipeHash: string;
  /** ISO timestamp. */
  readonly publishedAt: string;
  /** What the program published: site or catalog -> vDisk name or image path. */
  readonly published: Readonly<Record<string, string>>;
}

export function recordPath(manifestPath: string, stack: string): string {
  return join(dirname(manifestPath), `publish.${stack}.json`);
}

export async function writePublishRecord(manifestPath: string, record: PublishRecord): Promise<string> {
  const path = recordPath(manifestPath, record.stack);
  await writeJsonAtomic(path, record);
  return path;
}

export async function readPublishRecord(manifestPath: string, stack: string): Promise<PublishRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(manifestPath, stack), "utf8")) as PublishRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Every record of a stack among the sibling version directories of a manifest
 * (`out/<recipe>/<version>/`), newest first.
 */
export async function publishHistory(manifestPath: string, stack: string): Promise<PublishRecord[]> {
  const versionsDir = dirname(dirname(manifestPath));
  let versions: string[];
  try {
    versions = await readdir(versionsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const records: PublishRecord[] = [];
  for (const version of versions) {
    const record = await readPublishRecord(join(versionsDir, version, "manifest.json"), stack);
    if (record) records.push(record);
  }
  return records.sort((a, b) => b.publishedAt.localeCompare(a.publishedAt));
}
