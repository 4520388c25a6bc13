/**
 * `npm run bench -- <name>`: runs bench/<name>.ts. Each bench prints what it measured and ends
 * with one `RESULT <name> key=value ...` line for CI to pick up.
 */
import { readdir } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";

const here = fileURLToPath(new URL(".", import.meta.url));
const available = (await readdir(here)).filter((f) => f.endsWith(".ts") && f !== "run.ts").map((f) => f.slice(0, -3));
const name = process.argv[2];

if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name>\n\nbenches: ${available.sort().join(", ")}\n`);
  process.exitCode = 2;
} else {
  const bench = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { main(args: readonly string[]): Promise<number> };
  process.exitCode = await bench.main(process.argv.slice(3));
}
