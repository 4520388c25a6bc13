import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const io = () => {
  const o = { out: "", err: "", stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t), cwd: REPO, env: {}, isTty: false, signal: new AbortController().signal };
  return o;
};

test("rebake devices validate accepts good manifests and counts the devices", async () => {
  const out = io();
  assert.equal(await main(["devices", "validate", "test/fixtures/devices/hq.csv", "test/fixtures/devices/lyon.yaml", "--stack", "prod"], out), 0, out.out);
  assert.match(out.out, /0 errors, 0 warnings in 2 files\n5 devices\n/);
});

test("rebake devices validate reports file:line:col problems and exits 1; --json lists them", async () => {
  const out = io();
  assert.equal(await main(["devices", "validate", "test/fixtures/devices/bad.csv"], out), 1);
  assert.match(out.out, /^test\/fixtures\/devices\/bad\.csv:3:1 {2}device-mac-format/m);
  const json = io();
  assert.equal(await main(["devices", "validate", "test/fixtures/devices/bad.csv", "--json"], json), 1);
  const parsed = JSON.parse(json.out) as { errors: number; problems: { rule: string }[] };
  assert.equal(parsed.errors, parsed.problems.length);
  assert.ok(parsed.problems.some((p) => p.rule === "device-name-length"));
});

for (const args of [["devices"], ["devices", "validate"], ["devices", "list", "x.csv"]]) {
  test(`rebake ${args.join(" ")} is a usage error`, async () => {
    assert.equal(await main(args, io()), 2);
  });
}
