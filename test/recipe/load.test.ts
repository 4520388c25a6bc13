import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  MAX_FILE_BYTES, MAX_NESTING_DEPTH, detectKind, displayPath, loadDocument, parseSource, type SourceFs,
} from "../../src/recipe/load.ts";
import { InputFileError } from "../../src/util/read-input.ts";
import type { SourceDocument } from "../../src/recipe/document.ts";

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

function parsed(text: string, path = "/project/recipes/r.yaml"): SourceDocument<unknown> {
  const result = parseSource(encode(text), { file: "r.yaml", path });
  assert.deepEqual(result.problems, []);
  assert.ok(result.document);
  return result.document;
}

describe("locate maps JSON pointers to source positions", () => {
  const text = [
    "metadata:", //                      1
    "  name: demo", //                   2
    "  owners: [alice, bob]", //         3
    "target:", //                        4
    "  kind: pvs", //                    5
    "  domainJoin:", //                  6
    "  \"a/b~c\": 1", //                 7
    "apps:", //                          8
    "  - one@1.0.0", //                  9
    "  - two@2.0.0", //                 10
    "shared: &s {x: 1}", //             11
    "copy: *s", //                      12
  ].join("\n");
  const doc = parsed(text);
  const table: ReadonlyArray<readonly [pointer: string, part: "key" | "value", line: number, col: number]> = [
    ["", "value", 1, 1],
    ["/metadata", "key", 1, 1],
    ["/metadata", "value", 2, 3],
    ["/metadata/name", "value", 2, 9],
    ["/metadata/name", "key", 2, 3],
    ["/metadata/owners/1", "value", 3, 19],
    ["/metadata/owners/1", "key", 3, 19],
    ["/target/kind", "value", 5, 9],
    // `domainJoin:` with nothing after it: the key is the only place to point at.
    ["/target/domainJoin", "value", 6, 3],
    ["/target/a~1b~0c", "key", 7, 3],
    ["/apps/1", "value", 10, 5],
    // Missing nodes fall back to the nearest parent that exists.
    ["/target/vdiskName", "value", 5, 3],
    ["/target/vdiskName", "key", 4, 1],
    ["/apps/7", "value", 9, 3],
    ["/nope/deeper", "value", 1, 1],
    // Through an alias: the anchored node's position.
    ["/copy/x", "value", 11, 16],
  ];
  for (const [pointer, part, line, col] of table) {
    it(`${JSON.stringify(pointer)} (${part}) is at ${line}:${col}`, () => {
      assert.deepEqual(doc.locate(pointer, part), { line, col });
    });
  }
});

describe("kind detection", () => {
  const table: ReadonlyArray<readonly [why: string, text: string, path: string, kind: "recipe" | "app"]> = [
    ["the $schema comment wins over the directory", "# yaml-language-server: $schema=../schemas/app.schema.json\nname: x\n", "/p/recipes/x.yaml", "app"],
    ["a $schema URL with a fragment", "# yaml-language-server: $schema=https://rebake.dev/schemas/recipe.schema.json#x\nname: x\n", "/p/apps/x.yaml", "recipe"],
    ["a file under apps/", "name: x\n", "/p/apps/vendor/x.yaml", "app"],
    ["the nearest of apps/ and recipes/", "name: x\n", "/home/apps/project/recipes/x.yaml", "recipe"],
    ["metadata means a recipe", "metadata: {name: x}\n", "/p/x.yaml", "recipe"],
    ["name with install means an app", "name: x\ninstall: {}\n", "/p/x.yaml", "app"],
    ["anything else is checked as a recipe", "foo: 1\n", "/p/x.yaml", "recipe"],
  ];
  for (const [why, text, path, kind] of table) {
    it(`${why}: ${kind}`, () => {
      const value = parsed(text, path).value;
      assert.equal(detectKind(text, path, value), kind);
      assert.equal(parsed(text, path).kind, kind);
    });
  }
  it("an explicit kind skips detection", () => {
    const result = parseSource(encode("metadata: {}\n"), { file: "x", path: "/p/x.yaml", kind: "app" });
    assert.equal(result.document?.kind, "app");
  });
});

describe("decoding", () => {
  it("a UTF-8 byte-order mark is dropped and positions stay those an editor shows", () => {
    const doc = parsed("\uFEFFmetadata:\n  name: café\n  version: 1.0.0\n");
    assert.deepEqual(doc.value, { metadata: { name: "café", version: "1.0.0" } });
    assert.deepEqual(doc.locate("/metadata/version"), { line: 3, col: 12 });
  });
  it("an invalid byte is reported at its line and character column", () => {
    const bytes = new Uint8Array([...encode("a: 1\nb: ü€"), 0xc3, 0x28, ...encode("\n")]);
    const [problem] = parseSource(bytes, { file: "x.yaml", path: "/x.yaml" }).problems;
    assert.deepEqual([problem?.rule, problem?.line, problem?.col], ["encoding", 2, 6]);
  });
  for (const [name, bytes] of [
    ["an overlong encoding", [0xc0, 0xaf]],
    ["a UTF-16 surrogate", [0xed, 0xa0, 0x80]],
    ["a truncated sequence", [0xe2, 0x82]],
  ] as const) {
    it(`${name} is not UTF-8`, () => {
      const result = parseSource(new Uint8Array([...encode("a: "), ...bytes]), { file: "x.yaml", path: "/x.yaml" });
      assert.deepEqual(result.problems.map((p) => [p.rule, p.line, p.col]), [["encoding", 1, 4]]);
    });
  }
});

describe("hostile files", () => {
  it(`nesting just within ${MAX_NESTING_DEPTH} levels loads`, () => {
    const depth = MAX_NESTING_DEPTH - 1;
    const doc = parsed(`a: ${"[".repeat(depth)}${"]".repeat(depth)}\n`);
    let levels = 0;
    for (let node: unknown = (doc.value as { a: unknown }).a; Array.isArray(node); node = node[0]) levels++;
    assert.equal(levels, depth);
  });
  it("half a million open brackets are rejected without a stack overflow", () => {
    const n = 500_000;
    assert.ok(2 * n < MAX_FILE_BYTES);
    const result = parseSource(encode(`a: ${"[".repeat(n)}${"]".repeat(n)}\n`), { file: "x.yaml", path: "/x.yaml" });
    assert.deepEqual(result.problems.map((p) => p.rule), ["yaml-too-deep"]);
  });
  it("a few aliases are fine", () => {
    const doc = parsed("base: &iso {path: a.iso}\nfirst: *iso\nsecond: *iso\n");
    assert.deepEqual(doc.value, { base: { path: "a.iso" }, first: { path: "a.iso" }, second: { path: "a.iso" } });
  });
});

describe("loadDocument through a file system", () => {
  /** Behaves as readInputFile does: it never hands out more than the limit. */
  function fakeFs(files: Record<string, number>, reads: string[]): SourceFs {
    return {
      read: async (path, maxBytes) => {
        const size = files[path];
        if (size === undefined) throw new InputFileError("not-found", "no such file");
        if (size < 0) throw new InputFileError("unreadable", "the file cannot be read (EACCES)");
        if (size > maxBytes) throw new InputFileError("too-large", "the file is larger than the limit");
        reads.push(path);
        return encode("name: x\n");
      },
    };
  }
  const table: ReadonlyArray<readonly [what: string, size: number | undefined, rule: string | undefined, read: boolean]> = [
    ["a file at the size limit is read", MAX_FILE_BYTES, undefined, true],
    ["a file over the limit is rejected", MAX_FILE_BYTES + 1, "file-too-large", false],
    ["a missing file", undefined, "file-not-found", false],
    ["an unreadable file", -1, "file-unreadable", false],
  ];
  for (const [what, size, rule, read] of table) {
    it(`${what}: ${rule ?? "no problem"}`, async () => {
      const reads: string[] = [];
      const files: Record<string, number> = size === undefined ? {} : { "/work/apps/x.yaml": size };
      const result = await loadDocument("apps/x.yaml", { cwd: "/work", fs: fakeFs(files, reads) });
      assert.deepEqual(result.problems.map((p) => [p.file, p.rule, p.line, p.col]), rule ? [["apps/x.yaml", rule, 0, 0]] : []);
      assert.equal(reads.length > 0, read);
      if (!rule) assert.equal(result.document?.kind, "app");
    });
  }
});

describe("displayPath", () => {
  for (const [cwd, path, shown] of [
    ["/work", "/work/recipes/a.yaml", "recipes/a.yaml"],
    ["/work", "/elsewhere/a.yaml", "/elsewhere/a.yaml"],
  ] as const) {
    it(`${path} from ${cwd} is ${shown}`, () => assert.equal(displayPath(cwd, path), shown));
  }
});
