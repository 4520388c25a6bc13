import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DownloadCache } from "../../src/cache/download-cache.ts";
import { ChecksumMismatchError, FetchError } from "../../src/cache/errors.ts";
import type { PlanInput } from "../../src/recipe/plan-model.ts";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");
const PAYLOAD = "installer payload\n";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "rebake-downloads-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A local HTTP server on 127.0.0.1 with an ephemeral port, counting requests. */
async function withServer(body: (url: string, hits: () => number) => Promise<void>): Promise<void> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (req.url === "/missing") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-length": Buffer.byteLength(PAYLOAD) }).end(PAYLOAD);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => hits);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

test("a pinned URL is downloaded once, stored under its sha256 and then served from the cache", () =>
  withDir((dir) =>
    withServer(async (base, hits) => {
      const cache = new DownloadCache(join(dir, "cache"));
      const input: PlanInput = { name: "app", source: { url: `${base}/app.tar`, sha256: sha(PAYLOAD) } };
      const progress: number[] = [];
      const first = await cache.get(input, { onProgress: (done) => progress.push(done) });
      assert.equal(first.path, join(dir, "cache", sha(PAYLOAD)));
      assert.equal(first.cacheHit, false);
      assert.equal(progress.at(-1), Buffer.byteLength(PAYLOAD));
      const second = await cache.get(input);
      assert.equal(second.cacheHit, true);
      assert.equal(hits(), 1);
      assert.deepEqual(await readdir(join(dir, "cache")), [sha(PAYLOAD)]);
    }),
  ));

const mismatches: readonly { name: string; input: (dir: string, base: string) => Promise<PlanInput>; file: (dir: string, base: string) => string }[] = [
  {
    name: "a URL",
    input: async (_dir, base) => ({ name: "app", source: { url: `${base}/app.tar`, sha256: sha("other") } }),
    file: (_dir, base) => `${base}/app.tar`,
  },
  {
    name: "a file: URL",
    input: async (dir) => {
      await writeFile(join(dir, "app.tar"), PAYLOAD);
      return { name: "app", source: { url: pathToFileURL(join(dir, "app.tar")).href, sha256: sha("other") } };
    },
    file: (dir) => pathToFileURL(join(dir, "app.tar")).href,
  },
  {
    name: "a path",
    input: async (dir) => {
      await writeFile(join(dir, "app.tar"), PAYLOAD);
      return { name: "app", source: { path: "app.tar", sha256: sha("other") }, resolvedPath: join(dir, "app.tar") };
    },
    file: (dir) => join(dir, "app.tar"),
  },
];

for (const c of mismatches) {
  test(`a checksum mismatch on ${c.name} names the file, the expected and the actual hash and leaves nothing in the cache`, () =>
    withDir((dir) =>
      withServer(async (base) => {
        const cache = new DownloadCache(join(dir, "cache"));
        const error = await cache.get(await c.input(dir, base)).catch((e: unknown) => e);
        assert.ok(error instanceof ChecksumMismatchError, String(error));
        assert.equal(error.file, c.file(dir, base));
        assert.ok(error.message.includes(`expected sha256 ${sha("other")}, got ${sha(PAYLOAD)}`), error.message);
        assert.deepEqual(await readdir(join(dir, "cache")).catch(() => []), []);
      }),
    ));
}

test("a path input is hashed and used in place", () =>
  withDir(async (dir) => {
    await writeFile(join(dir, "app.tar"), PAYLOAD);
    const cache = new DownloadCache(join(dir, "cache"));
    const fetched = await cache.get({ name: "app", source: { path: "app.tar" }, resolvedPath: join(dir, "app.tar") });
    assert.equal(fetched.path, join(dir, "app.tar"));
    assert.equal(fetched.sha256, sha(PAYLOAD));
  }));

test("an unpinned URL is stored under the sha256 it turned out to have", () =>
  withDir((dir) =>
    withServer(async (base) => {
      const cache = new DownloadCache(join(dir, "cache"));
      const fetched = await cache.get({ name: "app", source: { url: `${base}/app.tar`, unpinned: { reason: "vendor portal needs a login" } } });
      assert.equal(fetched.sha256, sha(PAYLOAD));
    }),
  ));

test("a corrupted cache entry is detected before use and fetched again", () =>
  withDir((dir) =>
    withServer(async (base, hits) => {
      const cache = new DownloadCache(join(dir, "cache"));
      const input: PlanInput = { name: "app", source: { url: `${base}/app.tar`, sha256: sha(PAYLOAD) } };
      await cache.get(input);
      await writeFile(join(dir, "cache", sha(PAYLOAD)), "bit rot");
      const again = await cache.get(input);
      assert.equal(again.cacheHit, false);
      assert.equal(hits(), 2);
    }),
  ));

test("an HTTP error and a missing path name the input and the address", () =>
  withDir((dir) =>
    withServer(async (base) => {
      const cache = new DownloadCache(join(dir, "cache"));
      await assert.rejects(cache.get({ name: "app", source: { url: `${base}/missing`, sha256: sha(PAYLOAD) } }), (e: Error) => e instanceof FetchError && /input 'app': .*\/missing answered HTTP 404/.test(e.message));
      await assert.rejects(cache.get({ name: "iso", source: { path: "nope.iso" }, resolvedPath: join(dir, "nope.iso") }), (e: Error) => e instanceof FetchError && e.message.includes("nope.iso"));
    }),
  ));
