/**
 * The demo app packages under apps/files/ are what their sources and definitions say: each archive
 * is exactly what scripts/build-demo-apps.sh makes from apps/files/src/, and each apps/demo-*.yaml
 * pins the sha256 of the archive it names. (Installing them in a guest is in testos.test.ts.)
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { App } from "../../src/recipe/model.ts";
import { createExec } from "../../src/util/exec.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const APPS = path.join(REPO, "apps");
const SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/app.schema.json";

describe("demo app packages", () => {
  it("are reproduced byte for byte from apps/files/src by scripts/build-demo-apps.sh", async () => {
    const result = await createExec()("bash", [path.join(REPO, "scripts/build-demo-apps.sh"), "--check"], { nothrow: true });
    assert.equal(result.exitCode, 0, result.stderr);
  });

  // Installing them and detecting them afterwards happens in a real test-OS guest, in testos.test.ts.
  it("pin the sha256 of the archive they name and define a Linux install that unpacks it and a detect command", async () => {
    const files = (await readdir(APPS)).filter((name) => name.startsWith("demo-") && name.endsWith(".yaml"));
    assert.ok(files.length >= 2, `expected at least two demo apps, found ${files.join(", ")}`);
    const apps: App[] = [];
    for (const file of files) {
      const text = await readFile(path.join(APPS, file), "utf8");
      assert.equal(text.split("\n")[0], SCHEMA_LINE, file);
      const app = parseYaml(text) as App;
      apps.push(app);
      const archive = await readFile(path.resolve(APPS, app.source.path ?? ""));
      assert.equal(createHash("sha256").update(archive).digest("hex"), app.source.sha256, file);
      assert.match(app.install.linux?.command ?? "", /\{file\}.*\{dir\}/, file);
      assert.ok(app.detect?.command, `${file} has no detect.command`);
    }
    const names = new Set(apps.map((app) => `${app.name}@${app.version}`));
    const dependencies = apps.flatMap((app) => app.dependsOn ?? []);
    assert.ok(dependencies.length > 0, "one demo app depends on another");
    for (const ref of dependencies) assert.ok(names.has(ref), `dependsOn ${ref} is not a demo app`);
  });
});
