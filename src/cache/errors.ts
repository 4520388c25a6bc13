/** Cache failures, each naming the file or directory and the fix. */
export class CacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A file's sha256 is not the one it is pinned to. */
export class ChecksumMismatchError extends CacheError {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `checksum mismatch for ${file}: expected sha256 ${expected}, got ${actual}; ` +
        `the file is corrupt or was replaced: fetch it again, or pin the new sha256 if the change is intended`,
    );
  }
}

/** The disk holding the cache is full. */
export class CacheFullError extends CacheError {
  constructor(readonly dir: string, what: string) {
    super(
      `the cache disk is full (ENOSPC) while ${what} in ${dir}; nothing was committed. ` +
        `Free space with \`rebake cache prune --max-size 10G\` (or --all), or point --cache-dir at a larger disk`,
    );
  }
}

/** An input could not be fetched. */
export class FetchError extends CacheError {}

/** True for "no space left on device", however the layer below reported it. */
export function isDiskFull(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; message?: unknown };
  return e.code === "ENOSPC" || (typeof e.message === "string" && /ENOSPC|No space left on device/i.test(e.message));
}
