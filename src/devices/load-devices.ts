/** Reads device manifests (`.csv`, `.yaml`/`.yml`) and the names they may refer to. */
import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { loadDocument } from "../recipe/load.ts";
import { compareProblems, type Problem } from "../recipe/problem.ts";
import { decodeText } from "../util/decode-text.ts";
import { InputFileError, inputFileRule, readInputFile } from "../util/read-input.ts";
import type { StackConfig } from "../stacks/model.ts";
import type { DeviceRow, RawDeviceRow } from "./model.ts";
import { parseDeviceCsv } from "./parse-csv.ts";
import { parseDeviceYaml } from "./parse-yaml.ts";
import { validateDevices, type KnownNames } from "./validate.ts";

export const RECIPES_DIR = "recipes";

/** Manifests of thousands of devices are a few hundred KiB. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export async function readDeviceManifest(path: string, shownAs: string = path): Promise<{ rows: RawDeviceRow[]; problems: Problem[] }> {
  const fail = (problem: Omit<Problem, "file" | "severity">) => ({ rows: [], problems: [{ file: shownAs, severity: "error" as const, ...problem }] });
  const ext = extname(path).toLowerCase();
  if (ext !== ".csv" && ext !== ".yaml" && ext !== ".yml") {
    return fail({ line: 0, col: 0, rule: "device-file", message: `unknown manifest type ${ext || "(no extension)"}`, got: path, hint: "name the manifest .csv or .yaml" });
  }
  let bytes: Buffer;
  try {
    bytes = readInputFile(path, MAX_MANIFEST_BYTES);
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    const { rule, hint } = inputFileRule(error);
    return fail({ line: 0, col: 0, rule, message: error.message, hint });
  }
  // Spreadsheets save "Unicode text" as UTF-16: read it rather than refuse it.
  const decoded = decodeText(bytes, { utf16: true });
  if (!decoded.ok) {
    return fail({ ...decoded.position, rule: "encoding", message: `the file is not valid UTF-8 or UTF-16: byte 0x${decoded.byte.toString(16).padStart(2, "0")} at offset ${decoded.offset}`, hint: "save the manifest as UTF-8 (CSV UTF-8 in a spreadsheet)" });
  }
  return ext === ".csv" ? parseDeviceCsv(decoded.text, shownAs) : parseDeviceYaml(decoded.text, shownAs);
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
    // Read as validate reads recipes (no pipe, device or bomb gets through); a broken recipe is
    // `rebake validate`'s business, not this command's.
    const { document } = await loadDocument(join(root, RECIPES_DIR, file), { cwd: root, kind: "recipe" });
    const name = (document?.value as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
    if (typeof name === "string") images.add(name);
  }
  if (stack) images.add(stack.image.recipe);
  const sites = stack?.pvs?.sites ?? [];
  return {
    images: [...images].sort(),
    ...(stack?.pvs ? { sites: sites.map((s) => s.name), collections: Object.fromEntries(sites.map((s) => [s.name, s.collection])) } : {}),
  };
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
  return { devices: problems.length ? [] : checked.devices, problems: [...problems, ...checked.problems].sort(compareProblems) };
}
