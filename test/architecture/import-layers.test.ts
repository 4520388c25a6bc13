/**
 * Imports run down the layers: cli -> runner/publish -> drivers/stores -> recipe/util. Each
 * top-level package under src/ has a rank; a module may import its own package or one of a lower
 * rank, never one of the same rank or above, so the packages form no cycle and nothing below the
 * CLI reaches up into it. A new package must be given its rank here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../src", import.meta.url));

const RANK: Readonly<Record<string, number>> = {
  util: 0,
  recipe: 1,
  // Formats and local stores built on the recipe model.
  manifest: 2,
  stacks: 2,
  cache: 2,
  answers: 2,
  capture: 2,
  // Boundaries: guest channels and vDisk stores, then what drives them.
  guest: 3,
  stores: 3,
  hypervisors: 4,
  pvs: 4,
  distribute: 4,
  devices: 5,
  boot: 5,
  release: 5,
  runner: 6,
  publish: 6,
  cli: 7,
};

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : Promise.resolve(e.name.endsWith(".ts") ? [join(dir, e.name)] : []))));
  return nested.flat();
}

const packageOf = (file: string): string => relative(SRC, file).split(sep)[0]!;

/** Relative specifiers of static and dynamic imports and re-exports. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm)) found.push(match[1]!);
  return found;
}

test("every package under src/ has a rank", async () => {
  const packages = (await readdir(SRC, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(packages.filter((p) => RANK[p] === undefined), [], "give each new package a rank in this test");
});

test("no module imports a package of its own rank or above (imports run down the layers)", async () => {
  const upward: string[] = [];
  for (const file of await sources(SRC)) {
    const from = packageOf(file);
    if (!file.startsWith(SRC + sep) || RANK[from] === undefined) continue;
    for (const specifier of importsOf(await readFile(file, "utf8"))) {
      const target = resolve(dirname(file), specifier);
      if (!target.startsWith(SRC + sep)) continue;
      const to = packageOf(target);
      if (to === from || !target.includes(sep, SRC.length + 1)) continue;
      if ((RANK[to] ?? Infinity) >= RANK[from]!) upward.push(`${relative(SRC, file)} imports ${specifier} (${from} is rank ${RANK[from]}, ${to} is rank ${RANK[to]})`);
    }
  }
  assert.deepEqual(upward, []);
});

test("the rule sees an upward import (the check itself can fail)", () => {
  assert.deepEqual(importsOf(`import { x } from "../cli/io.ts";\nexport { y } from "./y.ts";\nconst m = await import("../publish/p.ts");\nimport "../side.ts";`), ["../cli/io.ts", "./y.ts", "../publish/p.ts", "../side.ts"]);
});
