/**
 * Puts an ISO on a datastore once: a `<file>.sha256` beside it records what was uploaded, so the
 * same ISO is never sent twice. The upload goes to a temporary name and is moved into place, so a
 * broken upload never leaves a file under the final name.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { sha256File } from "../../util/hash-file.ts";
import type { Govc } from "./govc.ts";
import { VsphereUploadError } from "./errors.ts";

/** A multi-GiB ISO over a slow WAN link to vCenter. */
export const UPLOAD_TIMEOUT_MS = 2 * 60 * 60_000;
export const CHECKSUM_SUFFIX = ".sha256";

export interface UploadedIso {
  /** The file inside the datastore, e.g. rebake-iso/win2022.iso. */
  readonly datastorePath: string;
  readonly sha256: string;
  /** false when the same file was already there. */
  readonly uploaded: boolean;
}

export interface UploadIsoOptions {
  readonly govc: Govc;
  readonly datastore: string;
  readonly folder: string;
  readonly signal?: AbortSignal;
}

export async function uploadIso(localPath: string, options: UploadIsoOptions): Promise<UploadedIso> {
  const { govc, datastore, folder, signal } = options;
  const sha256 = await sha256File(localPath, signal);
  const name = path.posix.basename(localPath);
  const datastorePath = `${folder}/${name}`;
  const checksumPath = `${datastorePath}${CHECKSUM_SUFFIX}`;
  const ds = ["-ds", datastore];

  if ((await recordedChecksum(govc, ds, checksumPath, signal)) === sha256 && (await exists(govc, ds, datastorePath, signal))) {
    return { datastorePath, sha256, uploaded: false };
  }
  await govc.run(["datastore.mkdir", ...ds, "-p", folder], signal ? { signal } : {});
  // The old record goes first: a replaced file must never look verified by the previous checksum.
  await govc.run(["datastore.rm", ...ds, "-f", checksumPath], { nothrow: true, ...(signal ? { signal } : {}) });
  await putFile(govc, ds, localPath, datastorePath, signal);

  const local = await mkdtemp(path.join(tmpdir(), "rebake-sha-"));
  try {
    const record = path.join(local, `${name}${CHECKSUM_SUFFIX}`);
    await writeFile(record, `${sha256}  ${name}\n`);
    await putFile(govc, ds, record, checksumPath, signal);
  } finally {
    await rm(local, { recursive: true, force: true });
  }
  return { datastorePath, sha256, uploaded: true };
}

async function putFile(govc: Govc, ds: readonly string[], localPath: string, finalPath: string, signal: AbortSignal | undefined): Promise<void> {
  const partial = `${path.posix.dirname(finalPath)}/.${path.posix.basename(finalPath)}.${randomBytes(4).toString("hex")}.partial`;
  try {
    await govc.run(["datastore.upload", ...ds, localPath, partial], { timeoutMs: UPLOAD_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    await govc.run(["datastore.mv", ...ds, "-f", partial, finalPath]);
  } catch (error) {
    // Not under the abort signal: the partial file must go even when the build was cancelled.
    await govc.run(["datastore.rm", ...ds, "-f", partial], { nothrow: true });
    throw new VsphereUploadError(`upload of ${localPath} to [${ds[1]}] ${finalPath} failed, nothing was left under that name: ${(error as Error).message}`);
  }
}

async function recordedChecksum(govc: Govc, ds: readonly string[], checksumPath: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  const result = await govc.run(["datastore.download", ...ds, checksumPath, "-"], { nothrow: true, ...(signal ? { signal } : {}) });
  if (result.exitCode !== 0) return undefined;
  return result.stdout.trim().split(/\s+/)[0];
}

async function exists(govc: Govc, ds: readonly string[], datastorePath: string, signal: AbortSignal | undefined): Promise<boolean> {
  const result = await govc.run(["datastore.ls", ...ds, datastorePath], { nothrow: true, ...(signal ? { signal } : {}) });
  return result.exitCode === 0;
}
