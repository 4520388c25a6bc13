/**
 * A CSV device manifest: a header row naming the columns (any order, any case), then one device
 * per row. `#` starts a comment line; blank lines are skipped. Fields may be double-quoted, with
 * `""` for a quote. Every value keeps its line and column, so problems point at the cell.
 */
import type { Problem } from "../recipe/problem.ts";
import { suggest } from "../recipe/suggest.ts";
import { DEVICE_FIELDS, type DeviceField, type Position, type RawDeviceRow } from "./model.ts";

interface Cell {
  readonly text: string;
  readonly col: number;
}

export function parseDeviceCsv(text: string, file: string): { rows: RawDeviceRow[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const rows: RawDeviceRow[] = [];
  let columns: (DeviceField | undefined)[] | undefined;
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  // After a header in the wrong separator every row would repeat that one mistake.
  let stopped = false;
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (stopped || raw.trim() === "" || raw.trimStart().startsWith("#")) return;
    const cells = splitLine(raw, file, line, problems);
    if (!cells) return;
    if (!columns) {
      const separator = wrongSeparator(cells);
      if (separator) {
        problems.push({ file, line, col: raw.indexOf(separator.char) + 1, rule: "csv-separator", severity: "error", message: `the columns are separated by ${separator.name}; a device manifest separates them with commas`, got: raw.trim(), hint: `save it as CSV with commas (in a spreadsheet: "CSV UTF-8 (comma delimited)"), or replace each ${separator.one} with a comma` });
        stopped = true;
        return;
      }
      columns = cells.map((cell) => {
        const name = cell.text.trim().toLowerCase();
        if ((DEVICE_FIELDS as readonly string[]).includes(name)) return name as DeviceField;
        const near = suggest(name, DEVICE_FIELDS);
        problems.push({ file, line, col: cell.col, rule: "device-unknown-column", severity: "error", message: `unknown column ${cell.text.trim()}`, got: cell.text.trim(), hint: near ? `did you mean '${near}'?` : `the columns are ${DEVICE_FIELDS.join(", ")}` });
        return undefined;
      });
      for (const field of DEVICE_FIELDS) {
        if (!columns.includes(field)) problems.push({ file, line, col: 1, rule: "device-missing-column", severity: "error", message: `the header has no ${field} column`, hint: `the header row is ${DEVICE_FIELDS.join(",")}` });
      }
      return;
    }
    const values: Partial<Record<DeviceField, string>> = {};
    const positions: Partial<Record<DeviceField, Position>> = {};
    if (cells.length > columns.length) {
      problems.push({ file, line, col: cells[columns.length]!.col, rule: "device-extra-field", severity: "error", message: `row has ${cells.length} fields, the header ${columns.length}`, hint: "remove the extra field, or quote a value that contains a comma" });
    }
    columns.forEach((field, i) => {
      const cell = cells[i];
      if (!field || !cell) return;
      values[field] = cell.text.trim();
      positions[field] = { line, col: cell.col };
    });
    rows.push({ file, line, values, positions });
  });
  if (!columns && !stopped) problems.push({ file, line: 0, col: 0, rule: "device-missing-column", severity: "error", message: "the manifest has no header row", hint: `start the file with ${DEVICE_FIELDS.join(",")}` });
  return { rows, problems };
}

const SEPARATORS = [
  { char: ";", name: "semicolons", one: "semicolon" },
  { char: "\t", name: "tabs", one: "tab" },
  { char: "|", name: "vertical bars", one: "vertical bar" },
] as const;

/** A header that is one cell holding the column names joined by another separator. */
function wrongSeparator(cells: readonly Cell[]): (typeof SEPARATORS)[number] | undefined {
  if (cells.length !== 1) return undefined;
  const header = cells[0]!.text;
  return SEPARATORS.find(({ char }) => {
    const names = header.split(char).map((name) => name.trim().toLowerCase());
    return names.length > 1 && names.some((name) => (DEVICE_FIELDS as readonly string[]).includes(name));
  });
}

function splitLine(raw: string, file: string, line: number, problems: Problem[]): Cell[] | undefined {
  const cells: Cell[] = [];
  let i = 0;
  for (;;) {
    const col = i + 1;
    let text = "";
    if (raw[i] === '"') {
      i++;
      for (;;) {
        if (i >= raw.length) {
          problems.push({ file, line, col, rule: "csv-syntax", severity: "error", message: "a quoted field is not closed", hint: "end the field with a double quote" });
          return undefined;
        }
        if (raw[i] === '"' && raw[i + 1] === '"') {
          text += '"';
          i += 2;
        } else if (raw[i] === '"') {
          i++;
          break;
        } else text += raw[i++];
      }
      while (i < raw.length && raw[i] !== ",") text += raw[i++];
    } else {
      while (i < raw.length && raw[i] !== ",") text += raw[i++];
    }
    cells.push({ text, col });
    if (i >= raw.length) return cells;
    i++;
  }
}
