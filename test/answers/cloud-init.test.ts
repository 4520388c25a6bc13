import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { BuildIdError, renderCloudInit } from "../../src/answers/cloud-init.ts";
import { HostnameError } from "../../src/answers/hostname.ts";
import { LocaleError } from "../../src/answers/locale.ts";
import { TimeZoneError } from "../../src/answers/timezone.ts";
import type { Recipe } from "../../src/recipe/model.ts";
import { createExec } from "../../src/util/exec.ts";
import { linuxRecipe } from "./recipes.ts";
import { assertSnapshot } from "../support/snapshot.ts";
import { cloudInitSnapshots } from "./answers.snapshots.ts";
import { BUILD_ID, CASES } from "./cloud-init-cases.ts";

/** The interpreter Debian's cloud-init package runs on (a PATH python3 may lack its modules). */
const SYSTEM_PYTHON = "/usr/bin/python3";

const exec = createExec();

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rebake-cloud-init-test-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cloudInitSchema(userData: string): Promise<{ exitCode: number; output: string }> {
  const file = join(dir, `user-data-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, userData);
  const result = await exec("cloud-init", ["schema", "--config-file", file], { nothrow: true });
  return { exitCode: result.exitCode, output: result.stdout + result.stderr };
}

/** Every top-level key cloud-init's schema defines (22.4 does not reject unknown keys by itself). */
let knownKeys: Promise<ReadonlySet<string>> | undefined;
function knownCloudConfigKeys(): Promise<ReadonlySet<string>> {
  knownKeys ??= loadKnownCloudConfigKeys();
  return knownKeys;
}

async function loadKnownCloudConfigKeys(): Promise<ReadonlySet<string>> {
  const script = [
    "import json",
    "from cloudinit.config.schema import get_schema",
    "s = get_schema()",
    "keys = set()",
    "for ref in s['allOf']:",
    "    keys |= set(s['$defs'][ref['$ref'].split('/')[-1]].get('properties', {}))",
    "print(json.dumps(sorted(keys)))",
  ].join("\n");
  const { stdout } = await exec(SYSTEM_PYTHON, ["-c", script]);
  return new Set(JSON.parse(stdout) as string[]);
}

describe("cloud-init NoCloud answer files", () => {
  for (const c of CASES) {
    describe(c.name, () => {
      const files = renderCloudInit(c.recipe, { buildId: BUILD_ID });

      // What the files mean is checked by the tests below; this pins the exact text that was reviewed.
      test("match the committed snapshot", async () => {
        const snapshots = cloudInitSnapshots(c);
        await assertSnapshot(snapshots.userData);
        await assertSnapshot(snapshots.metaData);
      });

      test("user-data passes cloud-init's own schema validator", async () => {
        const { exitCode, output } = await cloudInitSchema(files.userData);
        assert.equal(exitCode, 0, output);
        assert.match(output, /Valid cloud-config/);
      });

      test("user-data uses only keys cloud-init's schema defines", async () => {
        const known = await knownCloudConfigKeys();
        const keys = Object.keys(parse(files.userData) as object);
        assert.deepEqual(keys.filter((key) => !known.has(key)), []);
      });

      test("the test OS's line reader finds hostname, timezone and power_state mode", () => {
        const lines = files.userData.split("\n");
        assert.equal(lines[0], "#cloud-config");
        assert.ok(lines.includes(`hostname: ${c.hostname}`), files.userData);
        assert.ok(lines.includes(`timezone: ${c.timezone}`), files.userData);
        const power = lines.indexOf("power_state:");
        assert.ok(power > 0 && lines[power + 1] === "  mode: poweroff", files.userData);
      });

      test("installs the guest agent package for the hypervisor tools", () => {
        const config = parse(files.userData) as { packages?: string[]; runcmd?: string[] };
        assert.deepEqual(config.packages ?? [], c.packages);
        assert.equal((config.runcmd ?? []).length, c.packages.length);
      });

      test("meta-data derives instance-id from the build id and names the host", () => {
        assert.deepEqual(parse(files.metaData), { "instance-id": `rebake-${BUILD_ID}`, "local-hostname": c.hostname });
      });
    });
  }

  test("the schema check rejects an invalid power_state mode (the validator really validates)", async () => {
    const { exitCode, output } = await cloudInitSchema("#cloud-config\npower_state:\n  mode: sleep\n");
    assert.notEqual(exitCode, 0);
    assert.match(output, /power_state\.mode/);
  });

  const BAD: readonly { readonly name: string; readonly recipe: Recipe; readonly buildId?: string; readonly error: new (...args: never[]) => Error; readonly message: RegExp }[] = [
    { name: "a locale without region", recipe: linuxRecipe({ os: { locale: "de" } }), error: LocaleError, message: /os\.locale .*got: "de".*"de-DE"/ },
    { name: "an unknown time zone", recipe: linuxRecipe({ os: { timezone: "Mars/Olympus" } }), error: TimeZoneError, message: /"Mars\/Olympus".*IANA/ },
    { name: "an all-digit host name", recipe: linuxRecipe({ os: { hostname: "12345" } }), error: HostnameError, message: /os\.hostname.*got: "12345"/ },
    { name: "a build id without letters or digits", recipe: linuxRecipe(), buildId: "///", error: BuildIdError, message: /build id "\/\/\/"/ },
  ];
  for (const bad of BAD) {
    test(`refuses ${bad.name}, naming the value and the fix`, () => {
      assert.throws(() => renderCloudInit(bad.recipe, { buildId: bad.buildId ?? "b1" }), (error: Error) => {
        assert.ok(error instanceof bad.error, `${error.name}: ${error.message}`);
        assert.match(error.message, bad.message);
        return true;
      });
    });
  }
});
