/** Every piece of command text a recipe or app runs inside the guest, with where it is declared. */
import { dirname, resolve } from "node:path";
import type { App, Phase, Recipe, Script } from "../model.ts";
import { readInputFile } from "../../util/read-input.ts";

export interface DeclaredScript {
  /** JSON pointer of the Script object. */
  readonly pointer: string;
  /** "step join-domain", "seal script optimizer", "check vda-service". */
  readonly label: string;
  readonly script: Script;
  /** The phase a custom step follows; seal scripts run in the seal phase; checks run at verify. */
  readonly phase: Phase | "verify";
}

export function recipeScripts(recipe: Recipe): DeclaredScript[] {
  const scripts: DeclaredScript[] = [];
  recipe.steps?.forEach((step, i) => scripts.push({ pointer: `/steps/${i}`, label: `step ${step.name}`, script: step, phase: step.after }));
  recipe.seal?.scripts?.forEach((script, i) =>
    scripts.push({ pointer: `/seal/scripts/${i}`, label: `seal script ${script.name}`, script, phase: "seal" }),
  );
  recipe.checks?.forEach((check, i) => scripts.push({ pointer: `/checks/${i}`, label: `check ${check.name}`, script: check, phase: "verify" }));
  return scripts;
}

/** A command line written in the recipe or app outside a Script: install commands and options. */
export interface DeclaredCommand {
  /** JSON pointer of the string. */
  readonly pointer: string;
  readonly label: string;
  readonly text: string;
}

export function recipeCommands(recipe: Recipe): DeclaredCommand[] {
  const commands: DeclaredCommand[] = [];
  recipe.drivers?.forEach((driver, i) => {
    if (driver.install !== undefined) commands.push({ pointer: `/drivers/${i}/install`, label: `driver ${driver.name} install`, text: driver.install });
  });
  const tools = recipe.hypervisorTools;
  if (tools?.install !== undefined) commands.push({ pointer: "/hypervisorTools/install", label: "hypervisorTools.install", text: tools.install });
  recipe.vda?.options?.forEach((option, i) => commands.push({ pointer: `/vda/options/${i}`, label: "vda.options", text: option }));
  if (recipe.target.kind === "pvs" && recipe.target.targetDevice?.install !== undefined) {
    commands.push({ pointer: "/target/targetDevice/install", label: "target.targetDevice.install", text: recipe.target.targetDevice.install });
  }
  return commands;
}

export function appCommands(app: App): DeclaredCommand[] {
  const commands: DeclaredCommand[] = [];
  for (const family of ["windows", "linux"] as const) {
    const install = app.install?.[family];
    if (install) commands.push({ pointer: `/install/${family}/command`, label: `install.${family}.command`, text: install.command });
  }
  return commands;
}

/** Reads a text file, or undefined when it cannot be read (script-source reports that). */
export type ReadText = (absolutePath: string) => string | undefined;

/** Scripts are a few KiB; a bigger one is not read (input-not-file and script-source speak for it). */
export const MAX_SCRIPT_BYTES = 4 * 1024 * 1024;

export const readTextIfPresent: ReadText = (absolutePath) => {
  try {
    // Through the one reader: a script that is a pipe or a device must not hang every rule.
    return readInputFile(absolutePath, MAX_SCRIPT_BYTES).toString("utf8");
  } catch {
    return undefined;
  }
};

/** The text a script runs (inline, or read from its file) and the pointer to blame for it. */
export interface ScriptText {
  readonly pointer: string;
  readonly text: string;
}

export function scriptText(declared: DeclaredScript, recipePath: string, read: ReadText): ScriptText | undefined {
  const { script, pointer } = declared;
  if (script.run !== undefined) return { pointer: `${pointer}/run`, text: script.run };
  if (script.file === undefined) return undefined;
  const text = read(resolve(dirname(recipePath), script.file));
  return text === undefined ? undefined : { pointer: `${pointer}/file`, text };
}
