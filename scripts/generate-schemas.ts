// Generates schemas/*.schema.json from the TypeScript model (src/recipe/model.ts and friends).
// `--check` exits 1 when a committed schema differs, which is how CI catches drift.
import { readFile, writeFile, rename } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { schemaTargets, generateSchema } from "../src/recipe/schema-generation.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const check = process.argv.includes("--check");
let drift = 0;
for (const target of schemaTargets) {
  const file = `${root}${target.file}`;
  const text = generateSchema(root, target);
  const current = await readFile(file, "utf8").catch(() => "");
  if (current === text) continue;
  if (check) {
    console.error(`${target.file} is out of date with ${target.source}: run npm run schemas`);
    drift++;
  } else {
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
    console.log(`wrote ${target.file}`);
  }
}
process.exitCode = drift ? 1 : 0;
