/** Reads device manifests (`.csv`, `.yaml`/`.yml`) and the names they may refer to. */
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { parse } from "yaml";
import type { Problem } from "../recipe/problem.ts";
import type { StackConfig } from "../stacks/model.ts";
import type { DeviceRow, RawDeviceRow } from "./model.ts";
import { parseDeviceCsv } from "./parse-csv.ts";
import { parseDeviceYaml } from "./parse-yaml.ts";
import { validateDevices, type KnownNames } from "./validate.ts";

export const RECIPES_DIR = "recipes";

export async function readDeviceManifest(path: string, shownAs: string = path): Promise<{ rows: RawDeviceRow[]; problems: Problem[] }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    return { rows: [], problems: [{ file: shownAs, line: 0, col: 0, rule: "device-file", severity: "error", message: `cannot read the manifest (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, hint: "check the path" }] };
  }
  const ext = extname(path).toLowerCase();
  if (ext === ".csv") return parseDeviceCsv(text, shownAs);
  if (ext === ".yaml" || ext === ".yml") return parseDeviceYaml(text, shownAs);
  return { rows: [], problems: [{ file: shownAs, line: 0, col: 0, rule: "device-file", severity: "error", message: `unknown manifest type ${ext || "(no extension)"}`, got: path, hint: "name the manifest .csv or .yaml" }] };
}

/** Recipe names under recipes/, plus, with a stack, its pinned recipe and its sites. */
export async function knownNames(root: string, stack?: StackConfig): Promise<KnownNames> {
  const images = new Set<string>();
  let files: string[] = [];
  try {
    files = (await readdir(join(root, RECIPES_DIR))).filter((f) => /\.ya?ml$/.test(f));
  } catch {
    // No recipes directory: only the stack's image is known.
  }
  for (const file of files) {
    try {
      const name = (parse(await readFile(join(root, RECIPES_DIR, file), "utf8")) as { metadata?: { name?: unknown } })?.metadata?.name;
      if (typeof name === "string") images.add(name);
    } catch {
      // A broken recipe is `rebake validate`'s business, not this command's.
    }
  }
  if (stack) images.add(stack.image.recipe);
  return { images: [...images].sort(), ...(stack?.pvs ? { sites: stack.pvs.sites.map((s) => s.name) } : {}) };
}

/** Every manifest read and checked together, so duplicates across files are found. */
export async function loadDevices(paths: readonly { path: string; shownAs: string }[], known: KnownNames): Promise<{ devices: DeviceRow[]; problems: Problem[] }> {
  const rows: RawDeviceRow[] = [];
  const problems: Problem[] = [];
  for (const { path, shownAs } of paths) {
    const read = await readDeviceManifest(path, shownAs);
    rows.push(...read.rows);
    problems.push(...read.problems);
  }
  const checked = validateDevices(rows, known);
  return { devices: problems.length ? [] : checked.devices, problems: [...problems, ...checked.problems] };
}
