/** Unit tests of the recipe rules: for each rule, a table of recipes and the problems expected. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { Rule } from "../../src/recipe/document.ts";
import type { App, CustomStep, Phase } from "../../src/recipe/model.ts";
import { createInputMissing } from "../../src/recipe/rules/input-missing.ts";
import { inputPinned } from "../../src/recipe/rules/input-pinned.ts";
import { inputSource } from "../../src/recipe/rules/input-source.ts";
import { inputUnpinned } from "../../src/recipe/rules/input-unpinned.ts";
import { createLayerOrder } from "../../src/recipe/rules/layer-order.ts";
import { mcsNeedsShutdown } from "../../src/recipe/rules/mcs-needs-shutdown.ts";
import { mcsNeedsVda } from "../../src/recipe/rules/mcs-needs-vda.ts";
import { pvsNeedsTargetDevice } from "../../src/recipe/rules/pvs-needs-target-device.ts";
import { createPvsNoDomainJoin } from "../../src/recipe/rules/pvs-no-domain-join.ts";
import { createPvsNoShutdown } from "../../src/recipe/rules/pvs-no-shutdown.ts";
import { pvsWithoutVda } from "../../src/recipe/rules/pvs-without-vda.ts";
import { recipeDuplicateEntry } from "../../src/recipe/rules/recipe-duplicate-entry.ts";
import { recipeFileName } from "../../src/recipe/rules/recipe-file-name.ts";
import { createScriptSource } from "../../src/recipe/rules/script-source.ts";
import { secureBootNeedsUefi } from "../../src/recipe/rules/secure-boot-needs-uefi.ts";
import { windows11NeedsTpm } from "../../src/recipe/rules/windows-11-needs-tpm.ts";
import { appDoc, recipeDoc, ruleContext } from "./helpers/source-document.ts";
import { DIGEST, mcsRecipe, pvsRecipe, type Draft, type DraftStep } from "./helpers/recipes.ts";

/** `severity pointer` of each problem the rule reports for the recipe. */
function run(rule: Rule, recipe: Draft, options: { readonly path?: string; readonly apps?: readonly App[] } = {}): string[] {
  const docs = [recipeDoc(recipe, options.path), ...(options.apps ?? []).map((a) => appDoc(a))];
  return rule.check(ruleContext(docs)).map((p) => `${p.severity} ${p.pointer}`);
}

interface Row {
  readonly name: string;
  readonly recipe: Draft;
  readonly expect: readonly string[];
}

function table(rule: Rule, rows: readonly Row[]): void {
  describe(rule.id, () => {
    for (const row of rows) it(row.name, () => assert.deepEqual(run(rule, row.recipe), row.expect));
  });
}

/** A recipe changed by `edit`. */
function recipe(base: () => Draft, edit: (draft: Draft) => void): Draft {
  const draft = base();
  edit(draft);
  return draft;
}

function step(after: Phase, run: string, shell: CustomStep["shell"] = "powershell"): DraftStep {
  return { name: `step-${after}-${run.length}`, after, shell, run };
}

table(mcsNeedsVda, [
  { name: "accepts an MCS image with a VDA", recipe: mcsRecipe(), expect: [] },
  { name: "rejects an MCS image without a VDA", recipe: recipe(mcsRecipe, (r) => delete r.vda), expect: ["error /target/kind"] },
  { name: "leaves PVS images without a VDA to pvs-without-vda", recipe: recipe(pvsRecipe, (r) => delete r.vda), expect: [] },
]);

table(mcsNeedsShutdown, [
  { name: "accepts the default shutdown", recipe: mcsRecipe(), expect: [] },
  { name: "accepts shutdown: true", recipe: recipe(mcsRecipe, (r) => (r.target = { kind: "mcs", shutdown: true })), expect: [] },
  { name: "rejects shutdown: false", recipe: recipe(mcsRecipe, (r) => (r.target = { kind: "mcs", shutdown: false })), expect: ["error /target/shutdown"] },
]);

table(pvsNeedsTargetDevice, [
  { name: "accepts target-device software with a version", recipe: pvsRecipe(), expect: [] },
  {
    name: "rejects a blank version",
    recipe: recipe(pvsRecipe, (r) => r.target.kind === "pvs" && (r.target.targetDevice.version = "  ")),
    expect: ["error /target/targetDevice/version"],
  },
  {
    name: "rejects a blank install command",
    recipe: recipe(pvsRecipe, (r) => r.target.kind === "pvs" && (r.target.targetDevice.install = "")),
    expect: ["error /target/targetDevice/install"],
  },
  { name: "ignores MCS images", recipe: mcsRecipe(), expect: [] },
]);

table(pvsWithoutVda, [
  { name: "is quiet for a PVS image with a VDA", recipe: pvsRecipe(), expect: [] },
  { name: "warns for a PVS image without a VDA", recipe: recipe(pvsRecipe, (r) => delete r.vda), expect: ["warning /target/kind"] },
]);

const noFiles = (): string | undefined => undefined;

describe("pvs-no-domain-join", () => {
  const rule = createPvsNoDomainJoin(noFiles);
  const joins = [
    "Add-Computer -DomainName corp.example.com -Credential $c",
    "netdom join %COMPUTERNAME% /domain:corp.example.com",
    "djoin /requestODJ /loadfile C:\\odj.txt /windowspath %SystemRoot% /localos",
    "realm join --user=svc-join corp.example.com",
    "adcli join -U svc-join corp.example.com",
  ];
  for (const text of joins) {
    it(`rejects a PVS step that runs: ${text}`, () => {
      assert.deepEqual(run(rule, recipe(pvsRecipe, (r) => (r.steps = [step("vda", text)]))), ["error /steps/0/run"]);
    });
  }
  it("rejects target.domainJoin on PVS, pointing at the key", () => {
    const r = recipe(pvsRecipe, (d) => ((d.target as Record<string, unknown>)["domainJoin"] = { domain: "corp", user: "u", password: "env:P" }));
    assert.deepEqual(run(rule, r), ["error /target/domainJoin"]);
  });
  it("rejects a seal script that joins, read from its file", () => {
    const reader = (path: string): string | undefined => (path.endsWith("join.ps1") ? "Add-Computer -DomainName corp" : undefined);
    const r = recipe(pvsRecipe, (d) => (d.seal = { scripts: [{ name: "join", shell: "powershell", file: "join.ps1" }] }));
    assert.deepEqual(run(createPvsNoDomainJoin(reader), r), ["error /seal/scripts/0/file"]);
  });
  it("allows a domain join on MCS", () => {
    const r = recipe(mcsRecipe, (d) => (d.steps = [step("vda", "Add-Computer -DomainName corp")]));
    assert.deepEqual(run(rule, r), []);
  });
  it("allows checks that mention a join (they run at verify, after capture)", () => {
    const r = recipe(pvsRecipe, (d) => (d.checks = [{ name: "c", shell: "powershell", run: "Add-Computer -WhatIf" }]));
    assert.deepEqual(run(rule, r), []);
  });
});

describe("pvs-no-shutdown", () => {
  const rule = createPvsNoShutdown(noFiles);
  const rows: readonly (readonly [string, boolean])[] = [
    ["Stop-Computer -Force", true],
    ["shutdown /s /t 0", true],
    ["shutdown.exe -s -t 0", true],
    ["shutdown -h now", true],
    ["shutdown -P +1", true],
    ["shutdown now", true],
    ["sync\npoweroff", true],
    ["sudo halt", true],
    ["systemctl poweroff", true],
    ["init 0", true],
    ["C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown", true],
    ["shutdown /r /t 0", false],
    ["shutdown -r now", false],
    ["Restart-Computer -Force", false],
    ["Write-Host 'halting is not done here'", false],
    ["sysprep.exe /generalize /oobe /quit", false],
  ];
  for (const [text, bad] of rows) {
    it(`${bad ? "rejects" : "accepts"} a PVS step that runs: ${text.replace("\n", "; ")}`, () => {
      assert.deepEqual(run(rule, recipe(pvsRecipe, (r) => (r.steps = [step("seal", text, "sh")]))), bad ? ["error /steps/0/run"] : []);
    });
  }
  it("rejects target.shutdown: true", () => {
    const r = recipe(pvsRecipe, (d) => d.target.kind === "pvs" && (d.target.shutdown = true));
    assert.deepEqual(run(rule, r), ["error /target/shutdown"]);
  });
  it("allows a shutdown step on MCS", () => {
    assert.deepEqual(run(rule, recipe(mcsRecipe, (r) => (r.steps = [step("seal", "Stop-Computer")]))), []);
  });
});

describe("layer-order", () => {
  const rule = createLayerOrder(noFiles);
  const VDA = "C:\\Build\\VDAServerSetup_2402.exe /quiet /components vda";
  const PVS = 'PVS_Device_x64.exe /s /v"/qn"';
  const TOOLS = 'D:\\setup64.exe /S /v "/qn REBOOT=R"';
  const rows: readonly { readonly target: "pvs" | "mcs"; readonly vda: boolean; readonly after: Phase; readonly run: string; readonly bad: boolean }[] = [
    { target: "mcs", vda: true, after: "tools", run: VDA, bad: true },
    { target: "mcs", vda: true, after: "apps", run: VDA, bad: true },
    { target: "mcs", vda: true, after: "vda", run: VDA, bad: false },
    { target: "pvs", vda: true, after: "target-device", run: VDA, bad: true },
    { target: "mcs", vda: true, after: "seal", run: VDA, bad: true },
    { target: "pvs", vda: true, after: "apps", run: PVS, bad: true },
    { target: "pvs", vda: true, after: "drivers", run: PVS, bad: true },
    { target: "pvs", vda: true, after: "vda", run: PVS, bad: false },
    { target: "pvs", vda: false, after: "apps", run: PVS, bad: false },
    { target: "pvs", vda: false, after: "tools", run: PVS, bad: true },
    { target: "pvs", vda: true, after: "seal", run: PVS, bad: true },
    { target: "mcs", vda: true, after: "drivers", run: TOOLS, bad: false },
    { target: "mcs", vda: true, after: "tools", run: TOOLS, bad: false },
    { target: "mcs", vda: true, after: "apps", run: TOOLS, bad: true },
    { target: "mcs", vda: true, after: "vda", run: "xe-guest-utilities install", bad: true },
    { target: "mcs", vda: true, after: "apps", run: "msiexec /i managementagentx64.msi /qn", bad: true },
    { target: "mcs", vda: true, after: "apps", run: "Set-ItemProperty HKLM:\\Software\\Contoso -Name X -Value 1", bad: false },
  ];
  for (const row of rows) {
    it(`${row.bad ? "rejects" : "accepts"} on ${row.target}${row.vda ? "" : " without VDA"} after: ${row.after}: ${row.run}`, () => {
      const r = recipe(row.target === "pvs" ? pvsRecipe : mcsRecipe, (d) => {
        if (!row.vda) delete d.vda;
        d.steps = [step(row.after, row.run, "cmd")];
      });
      assert.deepEqual(run(rule, r), row.bad ? ["error /steps/0/run"] : []);
    });
  }
  it("rejects the VDA installed from a seal script", () => {
    const r = recipe(mcsRecipe, (d) => (d.seal = { scripts: [{ name: "late-vda", shell: "cmd", run: VDA }] }));
    assert.deepEqual(run(rule, r), ["error /seal/scripts/0/run"]);
  });
  it("rejects app definitions that are really the VDA, the target-device software or hypervisor tools", () => {
    const apps: App[] = [
      { name: "vda", version: "1", source: { path: "x.exe" }, install: { windows: { command: "VDAWorkstationSetup.exe /quiet", shell: "cmd" } } },
      { name: "pvs", version: "1", source: { path: "x.exe" }, install: { linux: { command: "dnf install -y citrix-provisioning-tdb", shell: "sh" } } },
      { name: "tools", version: "1", source: { url: "https://x/VMware-tools-12.exe", sha256: DIGEST }, install: { windows: { command: "{file} /S", shell: "cmd" } } },
      { name: "7zip", version: "1", source: { path: "7z.msi" }, install: { windows: { command: "msiexec /i {file} /qn", shell: "cmd" } } },
    ];
    const problems = rule.check(ruleContext(apps.map((a) => appDoc(a)))).map((p) => `${p.file} ${p.pointer}`);
    assert.deepEqual(problems, ["vda-1.yaml /install/windows/command", "pvs-1.yaml /install/linux/command", "tools-1.yaml /source/url"]);
  });
});

table(secureBootNeedsUefi, [
  { name: "accepts secure boot on UEFI", recipe: recipe(pvsRecipe, (r) => (r.hardware = { firmware: "uefi", secureBoot: true })), expect: [] },
  { name: "accepts secure boot with the default firmware", recipe: recipe(pvsRecipe, (r) => (r.hardware = { secureBoot: true })), expect: [] },
  { name: "accepts BIOS without secure boot", recipe: recipe(pvsRecipe, (r) => (r.hardware = { firmware: "bios" })), expect: [] },
  {
    name: "rejects secure boot on BIOS",
    recipe: recipe(pvsRecipe, (r) => (r.hardware = { firmware: "bios", secureBoot: true })),
    expect: ["error /hardware/secureBoot"],
  },
]);

function windows11(hardware: Record<string, unknown> | undefined, where: "edition" | "iso" = "edition"): Draft {
  return recipe(mcsRecipe, (r) => {
    if (where === "edition") r.os.edition = "Windows 11 Enterprise";
    else {
      delete r.os.edition;
      r.os.imageIndex = 3;
      r.os.iso = { path: "isos/Win11_23H2_English_x64.iso" };
    }
    if (hardware === undefined) delete r.hardware;
    else r.hardware = hardware;
  });
}

table(windows11NeedsTpm, [
  { name: "accepts Windows 11 with a TPM on UEFI", recipe: windows11({ tpm: true, firmware: "uefi", secureBoot: true }), expect: [] },
  { name: "accepts Windows 11 with a TPM and the default firmware", recipe: windows11({ tpm: true }), expect: [] },
  { name: "accepts Windows Server 2022 without a TPM", recipe: pvsRecipe(), expect: [] },
  { name: "rejects Windows 11 without a hardware block, at the edition", recipe: windows11(undefined), expect: ["error /os/edition"] },
  { name: "rejects a Windows 11 ISO without a TPM, at the hardware key", recipe: windows11({ cpus: 2 }, "iso"), expect: ["error /hardware"] },
  { name: "rejects tpm: false", recipe: windows11({ tpm: false }), expect: ["error /hardware/tpm"] },
  { name: "rejects BIOS firmware", recipe: windows11({ tpm: true, firmware: "bios" }), expect: ["error /hardware/firmware"] },
]);

describe("inputs", () => {
  const unpinnedVda = recipe(pvsRecipe, (r) => r.vda && (r.vda.installer = { url: "https://x/VDA.exe", unpinned: { reason: "portal needs a login" } }));
  const bareDriver = recipe(pvsRecipe, (r) => (r.drivers = [{ name: "nic", version: "1", source: { url: "https://x/nic.zip" } }]));
  const unpinnedTools = recipe(pvsRecipe, (r) => (r.hypervisorTools = { kind: "vmware-tools", version: "12", installer: { url: "https://x/tools.exe" } }));
  const unpinnedDevice = recipe(pvsRecipe, (r) => r.target.kind === "pvs" && (r.target.targetDevice.installer = { url: "https://x/PVS.exe" }));
  it("input-pinned rejects every unpinned url: os.iso, drivers, tools, vda, target device", () => {
    assert.deepEqual(run(inputPinned, pvsRecipe()), []);
    assert.deepEqual(run(inputPinned, unpinnedVda), []);
    assert.deepEqual(run(inputPinned, bareDriver), ["error /drivers/0/source/url"]);
    assert.deepEqual(run(inputPinned, unpinnedTools), ["error /hypervisorTools/installer/url"]);
    assert.deepEqual(run(inputPinned, unpinnedDevice), ["error /target/targetDevice/installer/url"]);
    assert.deepEqual(run(inputPinned, recipe(pvsRecipe, (r) => (r.os.iso = { url: "https://x/os.iso" }))), ["error /os/iso/url"]);
  });
  it("input-pinned rejects an unpinned app source", () => {
    const apps: App[] = [{ name: "a", version: "1", source: { url: "https://x/a.msi" }, install: {} }];
    assert.deepEqual(inputPinned.check(ruleContext(apps.map((a) => appDoc(a)))).map((p) => p.pointer), ["/source/url"]);
  });
  it("input-unpinned warns with the reason", () => {
    const problems = inputUnpinned.check(ruleContext([recipeDoc(unpinnedVda)]));
    assert.deepEqual(problems.map((p) => `${p.severity} ${p.pointer}`), ["warning /vda/installer/unpinned"]);
    assert.match(problems[0]?.message ?? "", /NOT PINNED: portal needs a login/);
  });
  it("input-missing warns for a local file that is not there, relative to the YAML file", () => {
    const seen: string[] = [];
    const rule = createInputMissing((path) => (seen.push(path), path.endsWith("present.iso")));
    const local = (file: string): Draft => recipe(pvsRecipe, (r) => (r.os.iso = { path: file }));
    assert.deepEqual(run(rule, local("isos/present.iso"), { path: "/work/recipes/test-image.yaml" }), []);
    assert.deepEqual(run(rule, local("isos/absent.iso"), { path: "/work/recipes/test-image.yaml" }), ["warning /os/iso/path"]);
    assert.deepEqual(seen, ["/work/recipes/isos/present.iso", "/work/recipes/isos/absent.iso"]);
  });
  it("input-source wants exactly one of path and url", () => {
    assert.deepEqual(run(inputSource, recipe(pvsRecipe, (r) => (r.os.iso = { path: "a.iso", url: "https://x/a.iso", sha256: DIGEST }))), ["error /os/iso"]);
    assert.deepEqual(run(inputSource, recipe(pvsRecipe, (r) => (r.os.iso = {}))), ["error /os/iso"]);
    assert.deepEqual(run(inputSource, pvsRecipe()), []);
  });
});

describe("script-source", () => {
  const rule = createScriptSource((path) => path === "/work/recipes/scripts/there.ps1");
  const path = "/work/recipes/test-image.yaml";
  const rows: readonly { readonly name: string; readonly script: Record<string, unknown>; readonly expect: readonly string[] }[] = [
    { name: "accepts an inline script", script: { run: "Get-Date" }, expect: [] },
    { name: "accepts a file next to the recipe", script: { file: "scripts/there.ps1" }, expect: [] },
    { name: "rejects both run and file", script: { run: "Get-Date", file: "scripts/there.ps1" }, expect: ["error /steps/0"] },
    { name: "rejects neither run nor file", script: {}, expect: ["error /steps/0"] },
    { name: "rejects a missing file", script: { file: "scripts/gone.ps1" }, expect: ["error /steps/0/file"] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const r = recipe(pvsRecipe, (d) => (d.steps = [{ name: "s", after: "apps", shell: "powershell", ...row.script }]));
      assert.deepEqual(run(rule, r, { path }), row.expect);
    });
  }
  it("checks seal scripts and checks too", () => {
    const r = recipe(pvsRecipe, (d) => {
      d.seal = { scripts: [{ name: "a", shell: "cmd" }] };
      d.checks = [{ name: "b", shell: "cmd", file: "nope.cmd" }];
    });
    assert.deepEqual(run(rule, r, { path }), ["error /seal/scripts/0", "error /checks/0/file"]);
  });
});

describe("recipe-file-name", () => {
  const rows: readonly (readonly [string, boolean])[] = [
    ["/recipes/test-image.yaml", true],
    ["/recipes/test-image.yml", true],
    ["/recipes/test-image-old.yaml", false],
    ["/recipes/Test-Image.yaml", false],
  ];
  for (const [path, good] of rows) {
    it(`${good ? "accepts" : "warns about"} ${path} for recipe test-image`, () => {
      assert.deepEqual(run(recipeFileName, pvsRecipe(), { path }), good ? [] : ["warning /metadata/name"]);
    });
  }
});

table(recipeDuplicateEntry, [
  { name: "accepts distinct names", recipe: recipe(pvsRecipe, (r) => (r.apps = ["a@1", "b@1"])), expect: [] },
  { name: "rejects an app listed twice", recipe: recipe(pvsRecipe, (r) => (r.apps = ["a@1", "b@1", "a@1"])), expect: ["error /apps/2"] },
  {
    name: "rejects duplicate driver names",
    recipe: recipe(pvsRecipe, (r) => {
      const driver = { name: "nic", version: "1", source: { path: "nic.zip" } };
      r.drivers = [driver, { ...driver, version: "2" }];
    }),
    expect: ["error /drivers/1/name"],
  },
  {
    name: "rejects duplicate step, check and seal script names, each in its own list",
    recipe: recipe(pvsRecipe, (r) => {
      r.steps = [step("apps", "a"), step("apps", "a")];
      r.checks = [{ name: "same", shell: "sh", run: "true" }, { name: "same", shell: "sh", run: "true" }];
      r.seal = { scripts: [{ name: "same", shell: "sh", run: "true" }, { name: "other", shell: "sh", run: "true" }, { name: "same", shell: "sh", run: "true" }] };
    }),
    expect: ["error /steps/1/name", "error /checks/1/name", "error /seal/scripts/2/name"],
  },
]);
