/** Where the caches live: `--cache-dir`, else $REBAKE_CACHE_DIR, else .rebake/cache in the working directory. */
import { resolve } from "node:path";

export const DEFAULT_CACHE_DIR = ".rebake/cache";

export interface CacheDirs {
  readonly root: string;
  readonly downloads: string;
  readonly layers: string;
  /** The sha256 of local input files by identity (file-digests.ts). */
  readonly digests: string;
}

export function cacheDirs(cwd: string, env: NodeJS.ProcessEnv, explicit?: string): CacheDirs {
  const root = resolve(cwd, explicit ?? env.REBAKE_CACHE_DIR ?? DEFAULT_CACHE_DIR);
  return { root, downloads: resolve(root, "downloads"), layers: resolve(root, "layers"), digests: resolve(root, "digests") };
}
