import { test } from "node:test";
import assert from "node:assert/strict";
import { macKey, normaliseMac } from "../../src/devices/mac.ts";
import { deviceNameProblem } from "../../src/devices/device-name.ts";

const macs: [string, string | RegExp][] = [
  ["aa:bb:cc:dd:ee:fe", "AA-BB-CC-DD-EE-FE"],
  ["AA-BB-CC-DD-EE-FE", "AA-BB-CC-DD-EE-FE"],
  ["aabbccddeefe", "AA-BB-CC-DD-EE-FE"],
  [" 00:15:5D:01:02:03 ", "00-15-5D-01-02-03"],
  ["00:15:5d-01:02:03", /not a MAC/],
  ["00:15:5d:01:02", /not a MAC/],
  ["00155d01020g", /not a MAC/],
  ["ff:ff:ff:ff:ff:ff", /multicast or broadcast/],
  ["000000000000", /placeholder/],
];
for (const [input, expected] of macs) {
  test(`MAC ${JSON.stringify(input)} -> ${expected}`, () => {
    const result = normaliseMac(input);
    if (typeof expected === "string") assert.deepEqual(result, { ok: true, mac: expected });
    else assert.ok(!result.ok && expected.test(result.reason), JSON.stringify(result));
  });
}

test("the resource key of a MAC has no separators", () => assert.equal(macKey("00-15-5D-01-02-03"), "00155d010203"));

const names: [string, string | undefined][] = [
  ["HQ-TC-001", undefined],
  ["ABCDEFGHIJKLMNO", undefined],
  ["ABCDEFGHIJKLMNOP", "device-name-length"],
  ["HQ_TC_001", "device-name-chars"],
  ["HQ TC", "device-name-chars"],
  ["12345", "device-name-chars"],
  ["-HQ1", "device-name-chars"],
];
for (const [name, rule] of names) {
  test(`device name ${JSON.stringify(name)} -> ${rule ?? "valid"}`, () => assert.equal(deviceNameProblem(name)?.rule, rule));
}
