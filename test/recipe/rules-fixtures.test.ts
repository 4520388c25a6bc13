/**
 * The bad-rules corpus: each broken recipe or app under test/fixtures/bad-rules reports exactly
 * the listed problems (rule id and line:col), with the shared, valid apps loaded beside it.
 */
import { strict as assert } from "node:assert";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { validatePaths } from "../../src/recipe/validate.ts";
import { createRecordingPowerShellParser } from "../../src/util/powershell-parser.ts";
import { checkAll, loadYamlFile, ruleContext } from "./helpers/source-document.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURES = join(ROOT, "test/fixtures/bad-rules");
const SHARED_APPS = join(FIXTURES, "apps");
/** These fixtures are about the named rules; test/recipe/powershell-syntax.test.ts runs real pwsh. */
const PARSES_ALL = createRecordingPowerShellParser();

interface Case {
  /** The fixture the case is about. */
  readonly file: string;
  /** Other fixtures loaded with it (the other half of a duplicate or a cycle). */
  readonly with?: readonly string[];
  /** Every problem reported, as `file:line:col severity rule`, sorted by file and position. */
  readonly problems: readonly string[];
}

const CASES: readonly Case[] = [
  { file: "win2022-xa.yaml", problems: [] },
  // Names and references.
  { file: "app-ref-missing-version.yaml", problems: ["app-ref-missing-version.yaml:21:5 error app-ref-resolves"] },
  { file: "app-ref-unknown-name.yaml", problems: ["app-ref-unknown-name.yaml:22:5 error app-ref-resolves"] },
  {
    file: "app-ref-ambiguous.yaml",
    with: ["app-duplicate-7zip.yaml"],
    problems: [
      "app-duplicate-7zip.yaml:2:7 error app-duplicate-definition",
      "app-ref-ambiguous.yaml:21:5 error app-ref-resolves",
      "apps/7zip-24.07.yaml:2:7 error app-duplicate-definition",
    ],
  },
  {
    file: "app-duplicate-7zip.yaml",
    problems: ["app-duplicate-7zip.yaml:2:7 error app-duplicate-definition", "apps/7zip-24.07.yaml:2:7 error app-duplicate-definition"],
  },
  { file: "app-listed-twice.yaml", problems: ["app-listed-twice.yaml:23:5 error recipe-duplicate-entry"] },
  { file: "duplicate-step-name.yaml", problems: ["duplicate-step-name.yaml:45:11 error recipe-duplicate-entry"] },
  {
    file: "duplicate-recipe-name.yaml",
    with: ["win2022-xa.yaml"],
    problems: [
      "duplicate-recipe-name.yaml:3:9 error recipe-duplicate-name",
      "duplicate-recipe-name.yaml:3:9 warning recipe-file-name",
      "win2022-xa.yaml:3:9 error recipe-duplicate-name",
    ],
  },
  { file: "app-missing-dependency.yaml", problems: ["app-missing-dependency.yaml:12:5 error app-dependency-missing"] },
  { file: "app-cycle-designer.yaml", with: ["app-cycle-engine.yaml"], problems: ["app-cycle-designer.yaml:12:5 error app-dependency-cycle"] },
  { file: "app-version-conflict.yaml", problems: ["app-version-conflict.yaml:22:5 error app-version-conflict"] },
  {
    file: "os-family-install.yaml",
    problems: ["os-family-install.yaml:20:5 error os-family-install", "os-family-install.yaml:22:9 warning pvs-without-vda"],
  },
  // Inputs.
  { file: "iso-url-unpinned.yaml", problems: ["iso-url-unpinned.yaml:10:10 error input-pinned"] },
  { file: "app-url-unpinned.yaml", problems: ["app-url-unpinned.yaml:6:8 error input-pinned"] },
  { file: "vda-unpinned-reason.yaml", problems: ["vda-unpinned-reason.yaml:29:7 warning input-unpinned"] },
  { file: "app-unpinned-with-reason.yaml", problems: ["app-unpinned-with-reason.yaml:8:5 warning input-unpinned"] },
  { file: "driver-path-missing.yaml", problems: ["driver-path-missing.yaml:24:13 warning input-missing"] },
  { file: "iso-path-outside.yaml", problems: ["iso-path-outside.yaml:10:11 error input-outside-project"] },
  { file: "iso-path-directory.yaml", problems: ["iso-path-directory.yaml:10:11 error input-not-file"] },
  { file: "timezone-unknown.yaml", problems: ["timezone-unknown.yaml:13:13 error os-timezone"] },
  {
    file: "iso-path-and-url.yaml",
    problems: ["iso-path-and-url.yaml:10:5 error input-source", "iso-path-and-url.yaml:11:10 error input-pinned"],
  },
  // Layer order (seed 000).
  { file: "step-vda-before-apps.yaml", problems: ["step-vda-before-apps.yaml:39:10 error layer-order"] },
  { file: "step-target-device-before-vda.yaml", problems: ["step-target-device-before-vda.yaml:44:10 error layer-order"] },
  { file: "step-tools-after-apps.yaml", problems: ["step-tools-after-apps.yaml:39:10 error layer-order"] },
  { file: "app-is-vda.yaml", problems: ["app-is-vda.yaml:6:9 error layer-order"] },
  {
    file: "app-is-vmware-tools.yaml",
    problems: ["app-is-vmware-tools.yaml:6:8 error layer-order", "app-is-vmware-tools.yaml:8:5 warning input-unpinned"],
  },
  // MCS and PVS (seed 000, 001).
  { file: "mcs-without-vda.yaml", problems: ["mcs-without-vda.yaml:24:9 error mcs-needs-vda"] },
  { file: "mcs-no-shutdown.yaml", problems: ["mcs-no-shutdown.yaml:32:13 error mcs-needs-shutdown"] },
  { file: "pvs-empty-target-device.yaml", problems: ["pvs-empty-target-device.yaml:33:14 error pvs-needs-target-device"] },
  { file: "pvs-domain-join.yaml", problems: ["pvs-domain-join.yaml:37:3 error pvs-no-domain-join"] },
  { file: "pvs-step-joins-domain.yaml", problems: ["pvs-step-joins-domain.yaml:44:10 error pvs-no-domain-join"] },
  { file: "pvs-shutdown.yaml", problems: ["pvs-shutdown.yaml:37:13 error pvs-no-shutdown"] },
  { file: "pvs-seal-shuts-down.yaml", problems: ["pvs-seal-shuts-down.yaml:45:12 error pvs-no-shutdown"] },
  { file: "pvs-without-vda.yaml", problems: ["pvs-without-vda.yaml:23:9 warning pvs-without-vda"] },
  // Secrets.
  { file: "step-literal-password.yaml", problems: ["step-literal-password.yaml:39:10 error secret-literal"] },
  { file: "step-product-key.yaml", problems: ["step-product-key.yaml:39:10 error secret-literal"] },
  { file: "app-secret-in-install.yaml", problems: ["app-secret-in-install.yaml:9:14 error secret-literal"] },
  // Hardware.
  { file: "secure-boot-on-bios.yaml", problems: ["secure-boot-on-bios.yaml:19:15 error secure-boot-needs-uefi"] },
  { file: "windows-11-without-tpm.yaml", problems: ["windows-11-without-tpm.yaml:15:1 error windows-11-needs-tpm"] },
  // Scripts and files.
  { file: "script-run-and-file.yaml", problems: ["script-run-and-file.yaml:40:7 error script-source"] },
  { file: "script-file-missing.yaml", problems: ["script-file-missing.yaml:39:11 error script-source"] },
  { file: "file-named-wrong.yaml", problems: ["file-named-wrong.yaml:3:9 warning recipe-file-name"] },
];

async function yamlFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(".yaml")).sort();
}

async function problemsOf(testCase: Case): Promise<string[]> {
  const shared = await Promise.all((await yamlFiles(SHARED_APPS)).map((name) => loadYamlFile(join(SHARED_APPS, name), FIXTURES)));
  const own = await Promise.all([...(testCase.with ?? []), testCase.file].map((name) => loadYamlFile(join(FIXTURES, name), FIXTURES)));
  return checkAll(ruleContext([...shared, ...own])).map((p) => `${p.file}:${p.line}:${p.col} ${p.severity} ${p.rule}`);
}

describe("bad-rules fixtures", () => {
  for (const testCase of CASES) {
    it(`${testCase.file} reports ${testCase.problems.map((p) => p.split(" ").at(-1)).join(", ") || "nothing"}`, async () => {
      assert.deepEqual(await problemsOf(testCase), testCase.problems);
    });
  }

  // The same corpus through the real loader and schema check: positions and rule ids must agree.
  for (const testCase of CASES) {
    it(`${testCase.file} reports the same through validatePaths`, async () => {
      const { problems } = await validatePaths([...(testCase.with ?? []), testCase.file, "apps"], { cwd: FIXTURES, powershell: PARSES_ALL });
      assert.deepEqual(problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.severity} ${p.rule}`), testCase.problems);
    });
  }

  it("covers every fixture file with a case", async () => {
    const covered = new Set(CASES.flatMap((c) => [c.file, ...(c.with ?? [])]));
    assert.deepEqual((await yamlFiles(FIXTURES)).filter((name) => !covered.has(name)), []);
  });

  it("has at least 20 broken files", () => {
    assert.ok(CASES.filter((c) => c.problems.length > 0).length >= 20);
  });

  // Rules only ever see schema-valid files, so a fixture that fails the schema would test nothing.
  it("holds only schema-valid files that name their schema for editors", async () => {
    const ajv = new Ajv({ allErrors: true, discriminator: true, strict: false, validateFormats: false });
    const validators = {
      recipe: ajv.compile(JSON.parse(await readFile(join(ROOT, "schemas/recipe.schema.json"), "utf8"))),
      app: ajv.compile(JSON.parse(await readFile(join(ROOT, "schemas/app.schema.json"), "utf8"))),
    };
    const files = [...(await yamlFiles(FIXTURES)).map((name) => join(FIXTURES, name)), ...(await yamlFiles(SHARED_APPS)).map((name) => join(SHARED_APPS, name))];
    const invalid: string[] = [];
    for (const path of files) {
      const text = await readFile(path, "utf8");
      const schema = /^# yaml-language-server: \$schema=(?:\.\.\/)+schemas\/(recipe|app)\.schema\.json$/m.exec(text)?.[1] as "recipe" | "app" | undefined;
      if (schema === undefined) invalid.push(`${path}: no $schema line`);
      else if (!validators[schema](parse(text))) invalid.push(`${path}: ${ajv.errorsText(validators[schema].errors)}`);
    }
    assert.deepEqual(invalid, []);
  });
});
