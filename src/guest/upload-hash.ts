/**
 * The end of an upload over a channel that copies bytes without a checksum of its own (SSH, WinRM):
 * the guest hashes the file it received and the hash must be the local file's.
 */
import type { GuestExecResult } from "./channel.ts";

const SHA256_HEX = /^[0-9a-fA-F]{64}/;

export interface UploadPlace {
  readonly localPath: string;
  readonly guestPath: string;
  /** The guest, as the channel names it in errors. */
  readonly where: string;
}

/**
 * The sha256 the guest printed (lower case), when the hash command succeeded and it equals
 * `expected`; otherwise throws what `fail` makes of the reason.
 */
export function checkUploadHash(hashed: GuestExecResult, expected: string, place: UploadPlace, fail: (message: string) => Error): string {
  const { localPath, guestPath, where } = place;
  const actual = SHA256_HEX.exec(hashed.stdout.trim())?.[0]?.toLowerCase();
  if (hashed.exitCode !== 0 || !actual) throw fail(`hashing ${guestPath} on ${where} failed (exit ${hashed.exitCode}): ${(hashed.stderr || hashed.stdout).trim()}`);
  if (actual !== expected) throw fail(`upload of ${localPath} to ${guestPath} on ${where}: the guest computed sha256 ${actual}, the local file has ${expected}`);
  return actual;
}
