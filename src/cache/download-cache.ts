/**
 * The download cache: every input (ISO, installer) is fetched from its path or URL and
 * sha256-checked before use. URL inputs land in a content-addressed directory
 * (`<dir>/<sha256>`), written to a temp name, checked, then renamed, so a file under a final
 * name is always complete and correct. Path inputs are hashed and used in place.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import type { PlanInput } from "../recipe/plan-model.ts";
import type { CleanupStack } from "../util/cleanup-stack.ts";
import { CacheFullError, ChecksumMismatchError, FetchError, isDiskFull } from "./errors.ts";
import { sha256File } from "../util/hash-file.ts";

const SHA256 = /^[a-f0-9]{64}$/;
const TEMP_PREFIX = ".partial-";

export interface FetchedInput {
  readonly name: string;
  /** Where the checked file is on this machine. */
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  /** Where it came from: the path or the URL. */
  readonly origin: string;
  /** A URL input found in the cache, not downloaded again. */
  readonly cacheHit: boolean;
}

export interface FetchOptions {
  readonly signal?: AbortSignal;
  /** Temp files are registered here the moment they exist. */
  readonly cleanup?: CleanupStack;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface CachedDownload {
  readonly sha256: string;
  readonly path: string;
  readonly size: number;
  readonly modified: Date;
}

export class DownloadCache {
  readonly #fetch: typeof fetch;

  constructor(
    readonly dir: string,
    options: { readonly fetch?: typeof fetch } = {},
  ) {
    this.#fetch = options.fetch ?? fetch;
  }

  /** The input as a checked local file. */
  async get(input: PlanInput, options: FetchOptions = {}): Promise<FetchedInput> {
    const expected = input.sha256 ?? input.source.sha256;
    if (input.source.url === undefined) {
      const path = input.resolvedPath ?? input.source.path;
      if (path === undefined) throw new FetchError(`input '${input.name}' has neither a path nor a url: give one of them in the recipe or app`);
      const actual = await sha256File(path, options.signal).catch((error: NodeJS.ErrnoException) => {
        throw new FetchError(`input '${input.name}': cannot read ${path} (${error.code ?? error.message}); check the path, relative to the file that names it`);
      });
      if (expected !== undefined && expected !== actual) throw new ChecksumMismatchError(path, expected, actual);
      return { name: input.name, path, sha256: actual, size: (await stat(path)).size, origin: path, cacheHit: false };
    }
    const url = input.source.url;
    if (expected !== undefined) {
      if (!SHA256.test(expected)) throw new FetchError(`input '${input.name}': '${expected}' is not a sha256 (64 lowercase hex digits)`);
      const cached = join(this.dir, expected);
      const size = await stat(cached).then((s) => s.size, () => undefined);
      if (size !== undefined) {
        // Checked before every use: a cache entry can be damaged on disk like any file.
        const actual = await sha256File(cached, options.signal);
        if (actual === expected) return { name: input.name, path: cached, sha256: expected, size, origin: url, cacheHit: true };
        await rm(cached, { force: true });
      }
    }
    return this.#download(input.name, url, expected, options);
  }

  async #download(name: string, url: string, expected: string | undefined, options: FetchOptions): Promise<FetchedInput> {
    await this.#mkdir();
    const temp = join(this.dir, `${TEMP_PREFIX}${randomBytes(6).toString("hex")}`);
    const release = options.cleanup?.push(`remove ${temp}`, () => rm(temp, { force: true }));
    try {
      const { body, total } = await this.#open(name, url, options.signal);
      const hash = createHash("sha256");
      let done = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          done += chunk.length;
          options.onProgress?.(done, total);
          callback(null, chunk);
        },
      });
      await pipeline(body, meter, createWriteStream(temp), options.signal ? { signal: options.signal } : {});
      const actual = hash.digest("hex");
      if (expected !== undefined && actual !== expected) throw new ChecksumMismatchError(url, expected, actual);
      const final = join(this.dir, actual);
      await rename(temp, final);
      return { name, path: final, sha256: actual, size: done, origin: url, cacheHit: false };
    } catch (error) {
      if (isDiskFull(error)) throw new CacheFullError(this.dir, `downloading ${url}`);
      throw error;
    } finally {
      await rm(temp, { force: true });
      release?.();
    }
  }

  async #open(name: string, url: string, signal: AbortSignal | undefined): Promise<{ body: Readable; total: number }> {
    if (url.startsWith("file:")) {
      const path = fileURLToPath(url);
      const size = await stat(path).then((s) => s.size, () => {
        throw new FetchError(`input '${name}': ${url} does not exist; fix the url`);
      });
      return { body: createReadStream(path), total: size };
    }
    let response: Response;
    try {
      response = await this.#fetch(url, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new FetchError(`input '${name}': cannot download ${url}: ${(error as Error).message}; check the url and the network`);
    }
    if (!response.ok || !response.body) {
      throw new FetchError(`input '${name}': ${url} answered HTTP ${response.status} ${response.statusText}; check the url`);
    }
    const total = Number(response.headers.get("content-length") ?? 0);
    return { body: Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>), total };
  }

  async #mkdir(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (error) {
      if (isDiskFull(error)) throw new CacheFullError(this.dir, "creating the download cache");
      throw error;
    }
  }

  /** Complete downloads, newest first. */
  async list(): Promise<CachedDownload[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const entries: CachedDownload[] = [];
    for (const name of names.filter((n) => SHA256.test(n))) {
      const path = join(this.dir, name);
      const s = await stat(path);
      entries.push({ sha256: name, path, size: s.size, modified: s.mtime });
    }
    return entries.sort((a, b) => b.modified.getTime() - a.modified.getTime());
  }

  async remove(sha256: string): Promise<void> {
    await rm(join(this.dir, sha256), { force: true });
  }
}
