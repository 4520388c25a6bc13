import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { loadDevices } from "../../src/devices/load-devices.ts";
import { parseDeviceCsv } from "../../src/devices/parse-csv.ts";
import { parseDeviceYaml } from "../../src/devices/parse-yaml.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/devices/", import.meta.url));
const KNOWN = { images: ["ws2022-pvs", "win11-mcs"], sites: ["HQ", "Branch-Lyon"] };
const at = (file: string) => ({ path: join(FIXTURES, file), shownAs: file });

test("valid CSV and YAML manifests give normalised devices with their rows", async () => {
  const { devices, problems } = await loadDevices([at("hq.csv"), at("lyon.yaml")], KNOWN);
  assert.deepEqual(problems, []);
  assert.deepEqual(devices.map((d) => [d.mac, d.name, d.site, `${d.file}:${d.line}`]), [
    ["00-15-5D-01-02-03", "HQ-TC-001", "HQ", "hq.csv:3"],
    ["00-15-5D-01-02-04", "HQ-TC-002", "HQ", "hq.csv:4"],
    ["00-15-5D-01-02-05", "HQ-TC-003", "HQ", "hq.csv:5"],
    ["00-15-5D-0A-00-01", "LYO-TC-001", "Branch-Lyon", "lyon.yaml:3"],
    ["00-15-5D-0A-00-02", "LYO-TC-002", "Branch-Lyon", "lyon.yaml:8"],
  ]);
});

test("every problem of a bad manifest is reported at its cell, duplicates naming the other row", async () => {
  const { devices, problems } = await loadDevices([at("hq.csv"), at("bad.csv")], KNOWN);
  // The valid rows still come out (for the report); the command fails on any problem.
  assert.deepEqual(devices.map((d) => d.name), ["HQ-TC-001", "HQ-TC-002", "HQ-TC-003"]);
  assert.deepEqual(problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.rule}`), [
    "bad.csv:2:1 device-duplicate-mac",
    "bad.csv:3:1 device-mac-format",
    "bad.csv:4:19 device-name-length",
    "bad.csv:5:19 device-duplicate-name",
    "bad.csv:5:44 device-unknown-image",
    "bad.csv:6:19 device-name-chars",
    "bad.csv:6:41 device-unknown-site",
    "bad.csv:7:1 device-mac-format",
    "bad.csv:7:29 device-required",
  ]);
  assert.match(problems[0]!.message, /hq\.csv:3/);
  assert.match(problems[3]!.message, /hq\.csv:3/);
  assert.equal(problems.find((p) => p.rule === "device-unknown-image")?.hint, "did you mean 'ws2022-pvs'?");
});

const csvCases: [string, string, string[]][] = [
  ["a header with an unknown column", "mac,nmae,collection,site,image\n", ["1:5 device-unknown-column", "1:1 device-missing-column"]],
  ["no header at all", "# only a comment\n", ["0:0 device-missing-column"]],
  ["an unclosed quote", 'mac,name,collection,site,image\n"aa:bb,x\n', ["2:1 csv-syntax"]],
  ["an extra field", "mac,name,collection,site,image\naabbccddee00,A,C,HQ,ws2022-pvs,extra\n", ["2:32 device-extra-field"]],
];
for (const [name, text, expected] of csvCases) {
  test(`CSV with ${name} is reported`, () => {
    assert.deepEqual(parseDeviceCsv(text, "m.csv").problems.map((p) => `${p.line}:${p.col} ${p.rule}`), expected);
  });
}

test("quoted CSV fields keep commas and doubled quotes", () => {
  const { rows } = parseDeviceCsv('mac,name,collection,site,image\naabbccddee00,A,"Apps, ""pilot""",HQ,ws2022-pvs\n', "m.csv");
  assert.equal(rows[0]?.values.collection, 'Apps, "pilot"');
});

const yamlCases: [string, string, string[]][] = [
  ["a mapping instead of a list", "devices:\n  mac: x\n", ["2:3 device-type"]],
  ["an unknown key", "devices:\n  - mac: aabbccddee00\n    nmae: A\n", ["3:5 device-unknown-key"]],
  ["bad YAML", "devices: [\n", ["2:1 yaml-syntax"]],
];
for (const [name, text, expected] of yamlCases) {
  test(`YAML with ${name} is reported`, () => {
    assert.deepEqual(parseDeviceYaml(text, "m.yaml").problems.map((p) => `${p.line}:${p.col} ${p.rule}`), expected);
  });
}

test("a bare all-digit MAC in YAML keeps its leading zeros", () => {
  const { rows } = parseDeviceYaml("- mac: 001122334455\n  name: A\n", "m.yaml");
  assert.equal(rows[0]?.values.mac, "001122334455");
});

/** Hostile manifests (test/fixtures/devices/hostile): encodings, separators, formulas, collections. */
const HOSTILE_KNOWN = { ...KNOWN, images: ["ws2022-pvs"], collections: { HQ: "WS2022-Apps", "Branch-Lyon": "WS2022-Apps" } };
const hostileCases: ReadonlyArray<readonly [file: string, problems: readonly string[], devices: number, says?: RegExp]> = [
  ["utf16le.csv", [], 1],
  ["utf16be.csv", [], 1],
  ["utf16-tabs.csv", ["1:4 csv-separator"], 0, /separated by tabs/],
  ["semicolon.csv", ["1:4 csv-separator"], 0, /separated by semicolons/],
  ["tab.csv", ["1:4 csv-separator"], 0, /separated by tabs/],
  ["pipe.csv", ["1:4 csv-separator"], 0, /separated by vertical bars/],
  ["latin1.csv", ["2:25 encoding"], 0, /byte 0xe9/],
  ["formula-collection.csv", ["2:29 device-formula"], 0, /collection starts like a spreadsheet formula/],
  ["formula-name.csv", ["2:19 device-formula"], 0, /name starts like a spreadsheet formula/],
  ["formula-at.csv", ["2:29 device-formula"], 0],
  ["formula-plus.csv", ["2:29 device-formula"], 0],
  ["formula.yaml", ["4:17 device-formula"], 0],
  ["name-as-list.yaml", ["3:11 device-type"], 0, /name must be text/],
  ["self-alias.yaml", ["3:11 device-type"], 0, /name must be text/],
  ["collection-other-site.csv", ["2:29 device-unknown-collection"], 1, /not the device collection of site HQ in the stack \(WS2022-Apps\)/],
];
for (const [file, expected, count, says] of hostileCases) {
  test(`hostile manifest ${file}: ${expected.join(", ") || "read as valid"}`, async () => {
    const { devices, problems } = await loadDevices([{ path: join(FIXTURES, "hostile", file), shownAs: file }], HOSTILE_KNOWN);
    assert.deepEqual(problems.map((p) => `${p.line}:${p.col} ${p.rule}`), expected);
    assert.equal(devices.length, count);
    if (says) assert.match(problems.map((p) => p.message).join("\n"), says);
  });
}
