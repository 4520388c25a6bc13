/**
 * Checks device manifests with named rules and collects every problem: missing values, MAC format,
 * duplicate MACs or names across all files (naming both rows), the NetBIOS name rules, and images
 * or sites the project does not know. Valid rows come out normalised.
 */
import { compareProblems, type Problem } from "../recipe/problem.ts";
import { suggest } from "../recipe/suggest.ts";
import { deviceNameProblem } from "./device-name.ts";
import { normaliseMac } from "./mac.ts";
import { DEVICE_FIELDS, type DeviceRow, type RawDeviceRow } from "./model.ts";

export interface KnownNames {
  /** Recipe names and vDisk names a device may boot. */
  readonly images: readonly string[];
  /** PVS site names of the stack; absent: sites are not checked. */
  readonly sites?: readonly string[];
  /** The device collection of each site of the stack (stacks name one per site). */
  readonly collections?: Readonly<Record<string, string>>;
}

/**
 * A cell a spreadsheet would run as a formula (=HYPERLINK(...), +cmd, -2+3, @SUM): the manifest
 * is edited in spreadsheets, and a formula as a name or collection is an injection, not a name.
 */
const FORMULA = /^[=+\-@\t\r]/;

export function validateDevices(rows: readonly RawDeviceRow[], known: KnownNames): { devices: DeviceRow[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const devices: DeviceRow[] = [];
  const macs = new Map<string, RawDeviceRow>();
  const names = new Map<string, RawDeviceRow>();
  for (const row of rows) {
    const before = problems.length;
    const at = (field: (typeof DEVICE_FIELDS)[number]) => row.positions[field] ?? { line: row.line, col: 1 };
    const problem = (field: (typeof DEVICE_FIELDS)[number], p: Omit<Problem, "file" | "line" | "col" | "severity">) => problems.push({ file: row.file, ...at(field), severity: "error", ...p });
    for (const field of DEVICE_FIELDS) {
      const unreadable = row.values[field] === undefined && row.positions[field] !== undefined;
      if (!row.values[field] && !unreadable) problem(field, { rule: "device-required", message: `the device has no ${field}`, hint: `fill in the ${field} of this device` });
    }
    const formulas = DEVICE_FIELDS.filter((field) => FORMULA.test(row.values[field] ?? ""));
    for (const field of formulas) {
      problem(field, { rule: "device-formula", message: `the ${field} starts like a spreadsheet formula; a spreadsheet opening this manifest would run it`, got: row.values[field], hint: `write the ${field} itself (letters, digits and hyphens), without a leading =, +, - or @` });
    }
    // A formula is one mistake: the other checks would only restate it.
    const value = (field: (typeof DEVICE_FIELDS)[number]) => (formulas.includes(field) ? "" : row.values[field] ?? "");
    const [macText, name, collection, site, image] = DEVICE_FIELDS.map(value) as [string, string, string, string, string];
    let mac: string | undefined;
    if (macText) {
      const checked = normaliseMac(macText);
      if (checked.ok) mac = checked.mac;
      else problem("mac", { rule: "device-mac-format", message: checked.reason, got: macText });
    }
    if (mac) {
      const first = macs.get(mac);
      if (first) problem("mac", { rule: "device-duplicate-mac", message: `MAC ${mac} is also on ${first.file}:${first.line} (${first.values.name ?? "no name"})`, got: macText, hint: "one MAC address is one device: remove one of the rows or fix the address" });
      else macs.set(mac, row);
    }
    if (name) {
      const bad = deviceNameProblem(name);
      if (bad) problem("name", { ...bad, got: name });
      // Computer names are case-insensitive: PC-01 and pc-01 are the same AD account.
      const first = names.get(name.toUpperCase());
      if (first) problem("name", { rule: "device-duplicate-name", message: `device name ${name} is also on ${first.file}:${first.line} (${first.values.mac ?? "no MAC"})`, got: name, hint: "every device needs its own name" });
      else names.set(name.toUpperCase(), row);
    }
    if (image && !known.images.includes(image)) {
      const near = suggest(image, known.images);
      problem("image", { rule: "device-unknown-image", message: `image ${image} is not a recipe or vDisk of this project`, got: image, hint: near ? `did you mean '${near}'?` : `known images: ${known.images.join(", ") || "none (no recipes found)"}` });
    }
    if (site && known.sites && !known.sites.includes(site)) {
      const near = suggest(site, known.sites);
      problem("site", { rule: "device-unknown-site", message: `site ${site} is not a PVS site of the stack`, got: site, hint: near ? `did you mean '${near}'?` : `the stack's sites: ${known.sites.join(", ")}` });
    }
    const expected = site && known.collections?.[site];
    if (expected && collection && collection !== expected) {
      problem("collection", { rule: "device-unknown-collection", message: `collection ${collection} is not the device collection of site ${site} in the stack (${expected})`, got: collection, hint: `write ${expected}, or change the site's collection in the stack` });
    }
    if (problems.length === before && mac) devices.push({ mac, name, collection, site, image, file: row.file, line: row.line });
  }
  return { devices, problems: problems.sort(compareProblems) };
}
