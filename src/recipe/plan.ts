/**
 * Turns a recipe and its resolved apps into the ordered plan the runner executes (seed 000):
 * OS; updates, drivers and hypervisor tools; apps; VDA; for PVS the target-device software;
 * for MCS the optional domain join; seal; for MCS the shutdown before the snapshot. Custom steps
 * go right after the phase they name.
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import type { App, OsFamily, Phase, Recipe, Shell, Source } from "./model.ts";
import { type NormalizedApp, type NormalizedRecipe, type NormalizedScript, normalizeApp, normalizeRecipe } from "./normalize.ts";
import type { GuestCommand, Plan, PlanInput, PlanStep, StepKind } from "./plan-model.ts";
import { chainHash, hashFileSha256, recipeHash, stepContentHash, type HashFile } from "./hash.ts";
import { cleanupCommands, generalizeCommand, removeUploadsCommand } from "./seal-commands.ts";
import {
  DEFAULT_SHELL,
  JOIN_PASSWORD_ENV,
  LINUX_REBOOT_CODE,
  REBOOT_REQUIRED,
  defaultDriverInstall,
  defaultTargetDeviceInstall,
  defaultToolsInstall,
  domainJoinCommand,
  fillPlaceholders,
  guestCommand,
  guestPath,
  guestUploadDir,
  scriptFileCommand,
  vdaCommand,
  withLinuxRebootCheck,
} from "./step-commands.ts";
import { updatesCommand } from "./update-commands.ts";
import { withWindowsRebootCheck } from "./windows-reboot-check.ts";
import { PlanError, PlanInputError } from "./plan-error.ts";

export { PlanError, PlanInputError };

export interface PlanOptions {
  /** The recipe file as shown to the user; printed in the plan. */
  readonly file: string;
  /** Directory that relative paths in the recipe are resolved against. */
  readonly recipeDir: string;
  /** @default streaming sha256 of the file */
  readonly hashFile?: HashFile;
  /**
   * Directory of the app definition file, which the app's relative source path is resolved
   * against. @default `<recipeDir>/../apps`
   */
  readonly appDir?: (app: App) => string;
}

/** What a step knows before its position (and so its id and upload directory) is fixed. */
interface StepDraft {
  /** The id without its number, e.g. `app-7zip`. */
  readonly key: string;
  readonly kind: StepKind;
  readonly title: string;
  readonly installs?: { readonly name: string; readonly version: string };
  readonly reason: string;
  readonly reboot: PlanStep["reboot"];
  readonly inputs: readonly InputDraft[];
  /** Builds the commands once the guest paths of the inputs are known. */
  readonly commands: (paths: readonly string[], dir: string) => GuestCommand[];
  readonly settings?: unknown;
}

interface InputDraft {
  readonly name: string;
  readonly source: Source;
  readonly baseDir: string;
}


/**
 * Windows binds the streaming NIC filter driver only at boot. Citrix's Linux flow runs pvs-imager
 * right after installing the package, so Linux reboots only when the package asks.
 */
const TARGET_DEVICE_REBOOT: Readonly<Record<OsFamily, PlanStep["reboot"]>> = { windows: "always", linux: "if-required" };

export async function createPlan(recipe: Recipe, resolvedApps: readonly App[], options: PlanOptions): Promise<Plan> {
  const normalized = normalizeRecipe(recipe);
  const apps = resolvedApps.map(normalizeApp);
  const appDir = options.appDir ?? (() => join(options.recipeDir, "..", "apps"));
  const drafts = draftSteps(normalized, resolvedApps, apps, options.recipeDir, appDir);
  const steps = await finishSteps(drafts, normalized.os.family, options.hashFile ?? hashFileSha256);
  return {
    recipe: { name: normalized.metadata.name, version: normalized.metadata.version, file: options.file },
    family: normalized.os.family,
    target: normalized.target.kind,
    hash: recipeHash(normalized, resolvedApps, steps),
    steps,
    warnings: warningsFor(normalized, steps),
  };
}

function draftSteps(
  recipe: NormalizedRecipe,
  rawApps: readonly App[],
  apps: readonly NormalizedApp[],
  recipeDir: string,
  appDir: (app: App) => string,
): StepDraft[] {
  const family = recipe.os.family;
  const target = recipe.target;
  const phases: Record<Phase, StepDraft[]> = {
    os: [osInstallStep(recipe, recipeDir)],
    updates: recipe.updates.policy === "none" ? [] : [updatesStep(recipe)],
    drivers: recipe.drivers.map((driver, i) => {
      const install = driver.install
        ? { command: driver.install, shell: driver.shell ?? DEFAULT_SHELL[family], successCodes: [0, REBOOT_REQUIRED] }
        : defaultDriverInstall(family);
      if (!install) throw new PlanError(`driver '${driver.name}' has no install command and ${family} has no default one; add drivers[].install`, `/drivers/${i}`);
      return installStep({
        key: `driver-${driver.name}`,
        kind: "driver",
        title: `Install driver ${driver.name} ${driver.version}`,
        installs: { name: driver.name, version: driver.version },
        reason: `Device drivers with the OS updates, before any app`,
        reboot: "if-required",
        inputs: [{ name: `${driver.name} ${driver.version} driver package`, source: driver.source, baseDir: recipeDir }],
        install,
        family,
      });
    }),
    tools: recipe.hypervisorTools ? [toolsStep(recipe, recipeDir)] : [],
    apps: apps.map((app, i) => appStep(app, family, appDir(rawApps[i] as App))),
    vda: recipe.vda ? [vdaStep(recipe, recipeDir)] : [],
    "target-device": target.kind === "pvs" ? [targetDeviceStep(recipe, recipeDir)] : [],
    seal: [],
  };
  const custom = (phase: Phase) => recipe.steps.filter((step) => step.after === phase).map((step) => customStep(step, family, recipeDir));
  const ordered: StepDraft[] = [];
  for (const phase of ["os", "updates", "drivers", "tools", "apps", "vda", "target-device"] as const) {
    ordered.push(...phases[phase], ...custom(phase));
  }
  if (target.kind === "mcs" && target.domainJoin) ordered.push(domainJoinStep(recipe, target.domainJoin));
  ordered.push(sealStep(recipe, recipeDir), ...custom("seal"));
  if (target.shutdown) ordered.push(shutdownStep(target.kind));
  return ordered;
}

function osInstallStep(recipe: NormalizedRecipe, recipeDir: string): StepDraft {
  const { iso, ...settings } = recipe.os;
  const isoName = fileNameOf(iso) ?? "install.iso";
  const osName = recipe.os.edition ?? (recipe.os.imageIndex ? `${recipe.os.family} image ${recipe.os.imageIndex}` : recipe.os.family);
  return {
    key: "os-install",
    kind: "os-install",
    title: `Install ${osName} from ${isoName}`,
    installs: { name: "os", version: isoName },
    reason: `The OS first, unattended from answer media; every layer builds on it`,
    reboot: "never",
    inputs: [{ name: `${osName} install ISO`, source: iso, baseDir: recipeDir }],
    // The runner installs the OS itself (answer media, not guest commands); these settings shape it.
    commands: () => [],
    settings: { os: settings, hardware: recipe.hardware },
  };
}

function updatesStep(recipe: NormalizedRecipe): StepDraft {
  const updates = recipe.updates;
  return {
    key: "updates",
    kind: "updates",
    title: `Install ${updates.policy === "security" ? "security" : "all"} OS updates (up to ${updates.maxRounds} rounds)`,
    reason: `OS updates right after the OS, with the drivers and tools, before any app`,
    reboot: "if-required",
    inputs: [],
    commands: () => [updatesCommand(recipe.os.family, updates)],
  };
}

function toolsStep(recipe: NormalizedRecipe, recipeDir: string): StepDraft {
  const tools = recipe.hypervisorTools!;
  const family = recipe.os.family;
  const install = tools.install
    ? { command: tools.install, shell: tools.shell ?? DEFAULT_SHELL[family], successCodes: [0, REBOOT_REQUIRED] }
    : defaultToolsInstall(family, tools.kind, Boolean(tools.installer));
  if (!install) {
    throw new PlanError(`hypervisorTools '${tools.kind}' has no installer and ${family} does not ship it; add hypervisorTools.installer`, "/hypervisorTools");
  }
  return installStep({
    key: `hypervisor-tools-${tools.kind}`,
    kind: "hypervisor-tools",
    title: `Install ${tools.kind} ${tools.version}`,
    installs: { name: tools.kind, version: tools.version },
    reason: `Hypervisor tools with the drivers, before any app`,
    reboot: "if-required",
    inputs: tools.installer ? [{ name: `${tools.kind} ${tools.version} installer`, source: tools.installer, baseDir: recipeDir }] : [],
    install,
    family,
  });
}

function appStep(app: NormalizedApp, family: OsFamily, baseDir: string): StepDraft {
  const install = app.install[family];
  if (!install) {
    throw new PlanError(`app '${app.name}@${app.version}' has no install.${family} command; add one to its definition or drop it from the recipe`);
  }
  const after = app.dependsOn.length ? `, after ${app.dependsOn.join(", ")} which it depends on` : "";
  return installStep({
    key: `app-${app.name}`,
    kind: "app",
    title: `Install ${app.name} ${app.version}`,
    installs: { name: app.name, version: app.version },
    reason: `Apps after updates, drivers and tools, before the VDA${after}`,
    reboot: app.reboot,
    inputs: [{ name: `${app.name} ${app.version} installer`, source: app.source, baseDir }],
    install: { ...install, successCodes: app.successCodes },
    family,
    placeholders: { name: app.name, version: app.version },
    settings: { detect: app.detect },
  });
}

function vdaStep(recipe: NormalizedRecipe, recipeDir: string): StepDraft {
  const vda = recipe.vda!;
  const target = recipe.target.kind;
  const command = vdaCommand(recipe.os.family, target, vda.options ?? []);
  return {
    key: "vda",
    kind: "vda",
    title: `Install Citrix VDA ${vda.version} (${vda.role})`,
    installs: { name: "citrix-vda", version: vda.version },
    reason:
      target === "pvs"
        ? `PVS: the VDA after the apps and before the target-device software`
        : `MCS: the VDA after the apps, before the domain join and shutdown`,
    reboot: "always",
    inputs: [{ name: `Citrix VDA ${vda.version} installer`, source: vda.installer, baseDir: recipeDir }],
    commands: ([file], dir) => [{ ...command, command: fillPlaceholders(command.command, { file, dir, name: "citrix-vda", version: vda.version }) }],
    settings: { role: vda.role },
  };
}

function targetDeviceStep(recipe: NormalizedRecipe, recipeDir: string): StepDraft {
  if (recipe.target.kind !== "pvs") throw new PlanError("the target-device software belongs to PVS targets only", "/target");
  const device = recipe.target.targetDevice;
  const family = recipe.os.family;
  const install = device.install
    ? { command: device.install, shell: device.shell ?? DEFAULT_SHELL[family], successCodes: [0, REBOOT_REQUIRED] }
    : defaultTargetDeviceInstall(family);
  const reboot = device.reboot ?? TARGET_DEVICE_REBOOT[family];
  const order = recipe.vda ? "after the VDA" : "after the apps (this image has no VDA)";
  const why =
    family === "windows"
      ? "it holds the streaming NIC filter driver"
      : `its package readies the initramfs for the streamed boot${device.reboot ? "" : ", so it reboots only when the package asks"}`;
  return installStep({
    key: "target-device",
    kind: "target-device",
    title: `Install Citrix Provisioning target-device software ${device.version}`,
    installs: { name: "pvs-target-device", version: device.version },
    reason: `PVS: target-device software ${order}; ${why}`,
    reboot,
    inputs: [{ name: `PVS target-device ${device.version} installer`, source: device.installer, baseDir: recipeDir }],
    install,
    family,
  });
}

function domainJoinStep(recipe: NormalizedRecipe, join: { readonly domain: string; readonly ou?: string; readonly user: string; readonly password: string }): StepDraft {
  const command = domainJoinCommand(recipe.os.family, join);
  return {
    key: "domain-join",
    kind: "domain-join",
    title: `Join the domain ${join.domain}${join.ou ? ` (${join.ou})` : ""}`,
    reason: `MCS: optional domain join after the VDA, before sealing and the shutdown`,
    reboot: "always",
    inputs: [],
    commands: () => [{ ...command, secretEnv: { [JOIN_PASSWORD_ENV]: join.password } }],
  };
}

function customStep(step: NormalizedScript & { readonly after: Phase }, family: OsFamily, recipeDir: string): StepDraft {
  return {
    key: `custom-${slug(step.name)}`,
    kind: "custom",
    title: `Run custom step ${step.name} (${step.shell})`,
    reason: `Custom step placed after the ${step.after} phase`,
    reboot: scriptReboot(family, step),
    inputs: step.file ? [{ name: `script ${step.file}`, source: { path: step.file }, baseDir: recipeDir }] : [],
    commands: ([file], dir) => [scriptCommand(family, step, file, dir)],
  };
}

function sealStep(recipe: NormalizedRecipe, recipeDir: string): StepDraft {
  const family = recipe.os.family;
  const seal = recipe.seal;
  const fileScripts = seal.scripts.filter((script) => script.file);
  const parts = [
    seal.scripts.length ? `${seal.scripts.length} script${seal.scripts.length === 1 ? "" : "s"}` : "",
    seal.cleanup.length ? `cleanup: ${seal.cleanup.join(", ")}` : "",
    seal.generalize ? (family === "windows" ? "sysprep /generalize" : "generalise") : "",
  ].filter(Boolean);
  // Fail at plan time, not hours into a build, on an unknown cleanup action.
  const cleanup = cleanupCommands(family, seal.cleanup);
  return {
    key: "seal",
    kind: "seal",
    title: `Seal the image${parts.length ? ` (${parts.join("; ")})` : ""}`,
    reason:
      recipe.target.kind === "pvs"
        ? `PVS: seal last; the runner captures the disk right after a clean seal, with no shutdown step and no domain join`
        : `MCS: seal last, before the shutdown and the snapshot`,
    reboot: "never",
    inputs: fileScripts.map((script) => ({ name: `seal script ${script.file}`, source: { path: script.file! }, baseDir: recipeDir })),
    commands: (paths, dir) => {
      let next = 0;
      const scripts = seal.scripts.map((script) => scriptCommand(family, script, script.file ? paths[next++] : undefined, dir));
      return [...scripts, ...cleanup, ...(seal.generalize ? [generalizeCommand(family)] : []), removeUploadsCommand(family)];
    },
    settings: { generalize: seal.generalize },
  };
}

function shutdownStep(target: "mcs" | "pvs"): StepDraft {
  return {
    key: "shutdown",
    kind: "shutdown",
    title: "Shut down the golden VM",
    reason:
      target === "mcs"
        ? `MCS: the snapshot needs a powered-off master`
        : `The recipe asks for a shutdown before capture (PVS normally captures right after a clean seal, without one)`,
    reboot: "never",
    inputs: [],
    // The runner shuts the VM down through the hypervisor and waits for power-off.
    commands: () => [],
  };
}

interface InstallSpec {
  readonly key: string;
  readonly kind: StepKind;
  readonly title: string;
  readonly installs: { readonly name: string; readonly version: string };
  readonly reason: string;
  readonly reboot: PlanStep["reboot"];
  readonly inputs: readonly InputDraft[];
  readonly install: { readonly command: string; readonly shell: Shell; readonly successCodes: readonly number[] };
  readonly family: OsFamily;
  readonly placeholders?: { readonly name: string; readonly version: string };
  readonly settings?: unknown;
}

/** A step that uploads one installer and runs one silent install command. */
function installStep(spec: InstallSpec): StepDraft {
  const values = spec.placeholders ?? spec.installs;
  // A Linux package asks for its reboot through the distribution, not an exit code: the check
  // after the install turns that request into LINUX_REBOOT_CODE.
  const askLinux = spec.family === "linux" && spec.install.shell === "sh" && spec.reboot === "if-required";
  // A Windows installer may exit 0 and leave a reboot pending: the wrapper turns that into 3010.
  const askWindows = spec.family === "windows" && spec.install.shell === "cmd" && spec.reboot === "if-required";
  // guestCommand drops the duplicate when the recipe lists the code already.
  const asked = askLinux ? [LINUX_REBOOT_CODE] : askWindows ? [REBOOT_REQUIRED] : [];
  const successCodes = [...spec.install.successCodes, ...asked];
  // "if-required" needs an exit code that can ask for the reboot; without one it never comes.
  const canAsk = guestCommand(spec.family, spec.install.shell, "", successCodes).rebootCodes.length > 0;
  return {
    key: spec.key,
    kind: spec.kind,
    title: spec.title,
    installs: spec.installs,
    reason: spec.reason,
    reboot: spec.reboot === "if-required" && !canAsk ? "never" : spec.reboot,
    inputs: spec.inputs,
    commands: ([file], dir) => {
      const command = fillPlaceholders(spec.install.command, { file, dir, ...values });
      if (askWindows) return [guestCommand(spec.family, "powershell", withWindowsRebootCheck(command), successCodes)];
      return [guestCommand(spec.family, spec.install.shell, askLinux ? withLinuxRebootCheck(command) : command, successCodes)];
    },
    ...(spec.settings !== undefined ? { settings: spec.settings } : {}),
  };
}

function scriptCommand(family: OsFamily, script: NormalizedScript, file: string | undefined, dir: string): GuestCommand {
  const text = file ? scriptFileCommand(script.shell, file) : fillPlaceholders(script.run ?? "", { dir });
  return guestCommand(family, script.shell, text, script.successCodes, script.timeoutSeconds);
}

function scriptReboot(family: OsFamily, script: NormalizedScript): PlanStep["reboot"] {
  if (script.reboot) return "always";
  return guestCommand(family, script.shell, "", script.successCodes).rebootCodes.length ? "if-required" : "never";
}

/** Numbers the drafts, fixes their guest paths, hashes their inputs, chains their hashes. */
async function finishSteps(drafts: readonly StepDraft[], family: OsFamily, hashFile: HashFile): Promise<PlanStep[]> {
  const checksums = await localChecksums(drafts, hashFile);
  const width = Math.max(2, String(drafts.length).length);
  let previous = "";
  return drafts.map((draft, i) => {
    const id = `${String(i + 1).padStart(width, "0")}-${draft.key}`;
    const uploadDir = guestUploadDir(family, id);
    const names = uniqueFileNames(draft.inputs);
    const inputs = draft.inputs.map((input, j) => planInput(input, guestPath(family, uploadDir, names[j] as string), checksums));
    const commands = draft.commands(
      inputs.map((input) => input.guestPath as string),
      uploadDir,
    );
    const contentHash = stepContentHash({ ...draft, inputs, commands, uploadDir });
    const hash = chainHash(previous, contentHash);
    previous = hash;
    return {
      id,
      kind: draft.kind,
      title: draft.title,
      ...(draft.installs ? { installs: draft.installs } : {}),
      reason: draft.reason,
      reboot: draft.reboot,
      inputs,
      uploadDir,
      commands,
      contentHash,
      hash,
    };
  });
}

/** The sha256 of every unpinned local input, each file read once and all of them at once. */
async function localChecksums(drafts: readonly StepDraft[], hashFile: HashFile): Promise<ReadonlyMap<string, string>> {
  const wanted = new Map<string, string>();
  for (const draft of drafts) {
    for (const input of draft.inputs) {
      if (input.source.path !== undefined && !input.source.sha256) wanted.set(localPath(input), input.name);
    }
  }
  const entries = await Promise.all(
    [...wanted].map(async ([path, name]) => {
      try {
        return [path, await hashFile(path)] as const;
      } catch (error) {
        throw new PlanInputError(name, path, error as Error);
      }
    }),
  );
  return new Map(entries);
}

function localPath(input: InputDraft): string {
  const path = input.source.path as string;
  return isAbsolute(path) ? path : resolve(input.baseDir, path);
}

function planInput(input: InputDraft, guest: string, checksums: ReadonlyMap<string, string>): PlanInput {
  const source = input.source;
  if (source.path !== undefined) {
    const resolvedPath = localPath(input);
    return { name: input.name, source, resolvedPath, sha256: source.sha256 ?? (checksums.get(resolvedPath) as string), guestPath: guest };
  }
  if (source.sha256) return { name: input.name, source, sha256: source.sha256, guestPath: guest };
  return {
    name: input.name,
    source,
    unpinnedReason: source.unpinned?.reason ?? "no sha256 given",
    guestPath: guest,
  };
}

/** Guest file names: the source's own name, made shell-safe, unique within the step. */
function uniqueFileNames(inputs: readonly InputDraft[]): string[] {
  const seen = new Set<string>();
  return inputs.map((input, i) => {
    let name = (fileNameOf(input.source) ?? `input-${i + 1}`).replace(/[^A-Za-z0-9._-]/g, "_");
    if (seen.has(name)) name = `${i + 1}-${name}`;
    seen.add(name);
    return name;
  });
}

function fileNameOf(source: Source): string | undefined {
  if (source.path !== undefined) return basename(source.path) || undefined;
  if (source.url === undefined) return undefined;
  try {
    const last = new URL(source.url).pathname.split("/").pop();
    return last ? decodeURIComponent(last) : undefined;
  } catch {
    return basename(source.url) || undefined;
  }
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "step";
}

function warningsFor(recipe: NormalizedRecipe, steps: readonly PlanStep[]): string[] {
  const warnings = steps.flatMap((step) =>
    step.inputs
      .filter((input) => input.unpinnedReason !== undefined)
      .map(
        (input) =>
          `UNPINNED INPUT in step ${step.id}: ${input.name} (${input.source.url ?? input.source.path}) has no sha256, because: ${input.unpinnedReason}. The build cannot prove it installs the same bytes twice.`,
      ),
  );
  const target = recipe.target;
  if (recipe.os.family === "windows" && target.kind === "mcs" && target.domainJoin && recipe.seal.generalize) {
    warnings.push(
      `sysprep /generalize in the seal removes the domain join of step domain-join (${target.domainJoin.domain}); set seal.generalize: false or drop target.domainJoin`,
    );
  }
  return warnings;
}

/** The directory a recipe's relative paths are resolved against. */
export function recipeDirOf(recipePath: string): string {
  return dirname(resolve(recipePath));
}
