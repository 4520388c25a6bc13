/**
 * A YAML device manifest: `devices:` (or the document itself) is a list of mappings with the keys
 * mac, name, collection, site, image. Positions come from the yaml package's line counter.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import type { Problem } from "../recipe/problem.ts";
import { suggest } from "../recipe/suggest.ts";
import { DEVICE_FIELDS, type DeviceField, type Position, type RawDeviceRow } from "./model.ts";

export function parseDeviceYaml(text: string, file: string): { rows: RawDeviceRow[]; problems: Problem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (node: Node | undefined | null): Position => {
    const pos = lines.linePos(node?.range?.[0] ?? 0);
    return { line: pos.line, col: pos.col };
  };
  const problems: Problem[] = doc.errors.map((error) => {
    const pos = lines.linePos(error.pos[0]);
    return { file, line: pos.line, col: pos.col, rule: "yaml-syntax", severity: "error" as const, message: error.message.split("\n")[0] ?? error.message, hint: "fix the YAML syntax" };
  });
  if (problems.length) return { rows: [], problems };
  let list: unknown = doc.contents;
  if (isMap(list)) {
    const pair = list.items.find((item) => isScalar(item.key) && item.key.value === "devices");
    list = pair?.value;
  }
  if (!isSeq(list)) {
    const pos = at((isMap(list) || isScalar(list) ? list : doc.contents) as Node | null);
    return { rows: [], problems: [{ file, line: pos.line, col: pos.col, rule: "device-type", severity: "error", message: "a device manifest is a list of devices (under devices:)", hint: "write devices: then one '- mac: ...' entry per device" }] };
  }
  const rows: RawDeviceRow[] = [];
  for (const item of list.items) {
    const start = at(item as Node);
    if (!isMap(item)) {
      problems.push({ file, ...start, rule: "device-type", severity: "error", message: "each device is a mapping of mac, name, collection, site, image", hint: "write the device's keys below its '- '" });
      continue;
    }
    const values: Partial<Record<DeviceField, string>> = {};
    const positions: Partial<Record<DeviceField, Position>> = {};
    for (const pair of item.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      if (!(DEVICE_FIELDS as readonly string[]).includes(key)) {
        const near = suggest(key, DEVICE_FIELDS);
        problems.push({ file, ...at(pair.key), rule: "device-unknown-key", severity: "error", message: `unknown key ${key}`, got: key, hint: near ? `did you mean '${near}'?` : `the keys are ${DEVICE_FIELDS.join(", ")}` });
        continue;
      }
      const value = pair.value;
      if (!isScalar(value) || value.value === null || typeof value.value === "object") {
        problems.push({ file, ...at((value ?? pair.key) as Node), rule: "device-type", severity: "error", message: `${key} must be text`, hint: `write ${key}: <value>` });
        // Present but unreadable: a position without a value, so it is not also reported missing.
        positions[key as DeviceField] = at((value ?? pair.key) as Node);
        continue;
      }
      // A bare aabbccddeeff of digits only would be a YAML number: keep the text as written.
      values[key as DeviceField] = value.source ?? String(value.value);
      positions[key as DeviceField] = at(value);
    }
    rows.push({ file, line: start.line, values, positions });
  }
  return { rows, problems };
}
