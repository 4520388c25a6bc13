/**
 * `npm run snapshots`: rewrites every committed snapshot from the code that generates it. Each
 * `test/**\/*.snapshots.ts` module exports `SNAPSHOTS`; tests compare against the same list and
 * never write. Review `git diff` afterwards: a snapshot change is a change to what PVS, installers
 * or reviewers read.
 */
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Snapshot } from "../test/support/snapshot.ts";

const TEST = fileURLToPath(new URL("../test/", import.meta.url));

const modules = (await readdir(TEST, { recursive: true })).filter((file) => file.endsWith(".snapshots.ts")).sort();
let changed = 0;
for (const module of modules) {
  const { SNAPSHOTS } = (await import(pathToFileURL(join(TEST, module)).href)) as { SNAPSHOTS: readonly Snapshot[] };
  for (const snapshot of SNAPSHOTS) {
    const text = await snapshot.produce();
    const before = await readFile(snapshot.file, "utf8").catch(() => undefined);
    if (before === text) continue;
    await mkdir(dirname(snapshot.file), { recursive: true });
    await writeFile(`${snapshot.file}.tmp`, text);
    await rename(`${snapshot.file}.tmp`, snapshot.file);
    process.stdout.write(`${before === undefined ? "wrote" : "updated"} ${snapshot.file}\n`);
    changed++;
  }
}
process.stdout.write(`${changed} snapshot file(s) changed from ${modules.length} module(s); review them with git diff\n`);
