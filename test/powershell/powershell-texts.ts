/**
 * Every PowerShell text rebake generates or ships, by name: the Windows steps of every plan, the
 * seal, update and join commands with hostile values, the answer media's first-logon commands and
 * guest-tools script, the guest channels' own commands, the PVS registration, device and boot
 * scripts, and every .ps1 file in the repository. The parse test feeds them all to PowerShell's
 * parser; a generator added later belongs here too.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { renderAutounattend } from "../../src/answers/autounattend.ts";
import { guestToolsScript } from "../../src/answers/guest-tools-script.ts";
import { installReport } from "../../src/answers/install-report.ts";
import { planSiteBoot, type BootstrapPlan } from "../../src/boot/boot-plan.ts";
import { bootstrapScript } from "../../src/boot/bootstrap-script.ts";
import { createDeviceScript, deleteDeviceScript } from "../../src/devices/device-script.ts";
import { flushCommand, programFor, sha256Command } from "../../src/guest/qga/guest-command.ts";
import { bootIdScript, powerScript, remoteCommand, sha256Script } from "../../src/guest/ssh/remote-command.ts";
import { BOOT_ID_POWERSHELL, inlinePowershell, removeFilePowershell, sha256Powershell, writeChunkCommand } from "../../src/guest/winrm/windows-commands.ts";
import { registerVdiskScript } from "../../src/pvs/register-script.ts";
import { unregisterScript } from "../../src/pvs/registration-resource.ts";
import type { Recipe, UpdatePolicy } from "../../src/recipe/model.ts";
import { planProject } from "../../src/recipe/plan-project.ts";
import { CLEANUP_ACTIONS, cleanupCommands, generalizeCommand, removeUploadsCommand } from "../../src/recipe/seal-commands.ts";
import { domainJoinCommand, scriptFileCommand } from "../../src/recipe/step-commands.ts";
import { updatesCommand } from "../../src/recipe/update-commands.ts";
import { withWindowsRebootCheck } from "../../src/recipe/windows-reboot-check.ts";
import { mkdirScript, withEnvironment } from "../../src/runner/guest-script.ts";
import type { PvsAccessMode } from "../../src/stacks/model.ts";

export interface PowerShellText {
  readonly name: string;
  readonly text: string;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Values that break naive quoting: an apostrophe, PowerShell's typographic single quotes, `$`, a backtick. */
export const HOSTILE = "O'Brien \u2019s $env:X `n \u2018x\u201B";

/** Windows recipes whose plans hold every kind of step rebake writes. */
const WINDOWS_RECIPES = ["recipes/win11-mcs.yaml", "recipes/ws2022-pvs.yaml", "test/fixtures/plan/recipes/plan-win-mcs.yaml", "test/fixtures/plan/recipes/plan-win-pvs.yaml"];

export async function powershellTexts(): Promise<PowerShellText[]> {
  return [
    ...(await planTexts()),
    ...recipeCommandTexts(),
    ...answerMediaTexts(),
    ...guestChannelTexts(),
    ...pvsTexts(),
    ...(await shippedScripts()),
  ];
}

async function planTexts(): Promise<PowerShellText[]> {
  const texts: PowerShellText[] = [];
  for (const recipe of WINDOWS_RECIPES) {
    const planned = await planProject(join(ROOT, recipe), { cwd: ROOT });
    if (!planned.ok) throw new Error(`${recipe} does not plan: ${planned.problems.map((p) => p.message).join("; ")}`);
    for (const step of planned.plan.steps) {
      step.commands.forEach((command, i) => {
        if (command.shell === "powershell") texts.push({ name: `${recipe} ${step.id} command ${i + 1}`, text: command.command });
      });
    }
    planned.recipe.checks?.forEach((check) => {
      if (check.shell === "powershell" && check.run !== undefined) texts.push({ name: `${recipe} check ${check.name}`, text: check.run });
    });
  }
  return texts;
}

function recipeCommandTexts(): PowerShellText[] {
  const policies: readonly UpdatePolicy[] = ["all", "security"];
  return [
    ...policies.flatMap((policy) => [
      { name: `updates ${policy}`, text: updatesCommand("windows", { policy }).command },
      { name: `updates ${policy} excluding hostile ids`, text: updatesCommand("windows", { policy, exclude: ["KB5034439", HOSTILE], maxRounds: 3 }).command },
    ]),
    ...cleanupCommands("windows", Object.keys(CLEANUP_ACTIONS.windows)).map((c, i) => ({ name: `seal cleanup ${i + 1}`, text: c.command })),
    { name: "seal generalize", text: generalizeCommand("windows").command },
    { name: "seal remove uploads", text: removeUploadsCommand("windows").command },
    { name: "domain join", text: domainJoinCommand("windows", { domain: "corp.example", user: "CORP\\joiner", ou: "OU=VDI,DC=corp" }).command },
    { name: "domain join with hostile values", text: domainJoinCommand("windows", { domain: HOSTILE, user: HOSTILE, ou: HOSTILE }).command },
    { name: "script file", text: scriptFileCommand("powershell", `C:\\Windows\\Temp\\rebake\\01-step\\${HOSTILE}.ps1`) },
    { name: "upload directory", text: mkdirScript("powershell", `C:\\rebake\\${HOSTILE}`) },
    { name: "secret environment", text: withEnvironment("powershell", { REBAKE_JOIN_PASSWORD: HOSTILE }, "Write-Output ok").script },
    {
      name: "cmd step with secret environment (its PowerShell wrapper)",
      text: withEnvironment("cmd", { REBAKE_JOIN_PASSWORD: `${HOSTILE} "&calc& %PATH% !x! ^ <>|\n\u00fc`, B: HOSTILE }, `echo %B% & "C:\\Temp\\${HOSTILE}.exe" /S\r\nexit /b 3`).script,
    },
    { name: "install wrapper with hostile values", text: withWindowsRebootCheck(`"C:\\Temp\\${HOSTILE}.exe" /S /v"/qn REBOOT=R"`) },
  ];
}

function answerMediaTexts(): PowerShellText[] {
  const recipe: Recipe = {
    metadata: { name: "win", version: "1.0.0" },
    target: { kind: "mcs" },
    os: { family: "windows", iso: { path: "win.iso" }, edition: "Windows Server 2022 SERVERDATACENTER" },
  };
  const xml = renderAutounattend(recipe, { adminPassword: "pw", resolveSecret: () => "" });
  const commandLines = [...xml.matchAll(/<CommandLine>([^<]*)<\/CommandLine>/g)].map((m) => unescapeXml(m[1]!));
  const inline = commandLines.flatMap((line) => {
    const command = / -Command (.*)$/.exec(line)?.[1];
    return command === undefined ? [] : [{ name: `first-logon command ${line.slice(0, 40)}`, text: command }];
  });
  if (inline.length === 0) throw new Error("autounattend.xml has no powershell -Command first-logon command any more: update this list");
  return [
    ...inline,
    ...(["qemu-guest-agent", "vmware-tools", "xenserver-vm-tools"] as const).map((kind) => ({ name: `guest tools script ${kind}`, text: guestToolsScript(kind, installReport(HOSTILE)) })),
  ];
}

function guestChannelTexts(): PowerShellText[] {
  const path = `C:\\Windows\\Temp\\${HOSTILE}.ps1`;
  const decode = (line: string): string => Buffer.from(/-EncodedCommand (\S+)/.exec(line)![1]!, "base64").toString("utf16le");
  const chunk = /-Command "(.*)"$/.exec(writeChunkCommand("C:\\Windows\\Temp\\x.ps1", "QUJD", true))![1]!;
  return [
    { name: "qga sha256", text: sha256Command("windows", path) },
    { name: "qga flush", text: flushCommand("windows") },
    { name: "qga program", text: programFor("powershell", "Get-Date").arg.at(-1)! },
    { name: "ssh bootstrap for powershell", text: decode(remoteCommand("windows", "powershell", "Get-Date").command) },
    { name: "ssh bootstrap for cmd", text: decode(remoteCommand("windows", "cmd", "ver").command) },
    { name: "ssh boot id", text: bootIdScript("windows") },
    { name: "ssh reboot", text: powerScript("windows", "reboot") },
    { name: "ssh sha256", text: sha256Script("windows", path) },
    { name: "winrm inline script", text: decode(inlinePowershell("Get-Date")!) },
    { name: "winrm chunk write", text: chunk },
    { name: "winrm sha256", text: sha256Powershell(path) },
    { name: "winrm remove file", text: removeFilePowershell(path) },
    { name: "winrm boot id", text: BOOT_ID_POWERSHELL },
  ];
}

function pvsTexts(): PowerShellText[] {
  const request = {
    connectionServer: "pvs01.corp.example", port: 54321, vdiskName: HOSTILE, storeName: HOSTILE, siteName: HOSTILE, serverName: "pvs01",
    description: HOSTILE, writeCacheType: "device-ram-with-overflow-on-disk", writeCacheSizeMiB: 4096,
  } as const;
  const modes: readonly PvsAccessMode[] = ["production", "test", "maintenance"];
  const device = { connectionServer: "pvs01", port: 54321, mac: "AA-BB-CC-DD-EE-FF", deviceName: HOSTILE, collectionName: HOSTILE, siteName: HOSTILE, diskLocatorName: HOSTILE, storeName: HOSTILE };
  const boot = { method: "bdm", servers: [{ host: HOSTILE, ip: "10.0.0.1" }, { host: "pvs02", ip: "10.0.0.2", port: 6911 }] } as const;
  const site = { name: HOSTILE, server: "pvs01", collection: "c", store: { name: "s", location: "/mnt/s" }, boot };
  return [
    ...modes.map((accessMode) => ({ name: `pvs register ${accessMode}`, text: registerVdiskScript({ ...request, accessMode }) })),
    { name: "pvs unregister", text: unregisterScript({ ...request, accessMode: "production" }) },
    { name: "pvs create device", text: createDeviceScript(device) },
    { name: "pvs delete device", text: deleteDeviceScript(device) },
    { name: "pvs bootstrap", text: bootstrapScript(planSiteBoot(site, boot) as BootstrapPlan, { server: "pvs01", port: 54321 }) },
  ];
}

/** Broken on purpose: validate's powershell-syntax test needs a script that does not parse. */
const BROKEN_ON_PURPOSE = "test/fixtures/bad-powershell/";

/** Every .ps1 in the repository: recipe scripts, app scripts, fixtures and saved snapshots. */
async function shippedScripts(): Promise<PowerShellText[]> {
  const found: PowerShellText[] = [];
  for (const dir of ["recipes", "apps", "test", "testos", "scripts"]) {
    for (const path of await findPs1(join(ROOT, dir))) {
      const name = relative(ROOT, path);
      if (!name.startsWith(BROKEN_ON_PURPOSE)) found.push({ name, text: await readFile(path, "utf8") });
    }
  }
  if (!found.some((f) => f.name === "recipes/scripts/citrix-optimizer.ps1")) throw new Error("recipes/scripts/citrix-optimizer.ps1 was not found");
  return found;
}

async function findPs1(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== "node_modules") return findPs1(path);
      return Promise.resolve(entry.isFile() && entry.name.endsWith(".ps1") ? [path] : []);
    }),
  );
  return nested.flat();
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[name]!);
}
