/**
 * Points an MCS machine catalog at a new master image through the Citrix PowerShell SDK on a
 * Delivery Controller, for on-premises sites without the CVAD REST API: the Publish-ProvMasterVMImage
 * script (publish-image-script.ts) runs through the same executor as the PVS scripts
 * (src/pvs/executor.ts, over SSH, WinRM or locally). The script reads the image the catalog had
 * before (Get-ProvScheme MasterImageVM), which is kept in state, so delete (a rollback, or removing
 * the resource) puts the catalog back on it, as the REST variant (catalog-image.ts) does.
 */
import { createExec } from "../../util/exec.ts";
import type { PowerShellExecutorConfig } from "../../stacks/model.ts";
import { executorFor, PowerShellError, type ExecutorRole, type PowerShellExecutor } from "../../pvs/executor.ts";
import { currentImageScript, publishImageScript, RESULT_MARKER } from "./publish-image-script.ts";
import type { RebootSettings } from "./reboot-options.ts";

export interface PowerShellCatalogImageInputs extends RebootSettings {
  readonly via: "powershell";
  /** `-AdminAddress`: the Delivery Controller. */
  readonly adminAddress: string;
  /** The catalog's name, which is also its provisioning scheme's name for MCS catalogs. */
  readonly catalogName: string;
  readonly masterImagePath: string;
  readonly executor: PowerShellExecutorConfig;
}

export interface PowerShellCatalogImageOutputs extends PowerShellCatalogImageInputs {
  /** The image the catalog used before: where delete returns it. */
  readonly previousImagePath: string;
}

export const MCS_ROLE: ExecutorRole = { script: "MCS publish script", server: "Delivery Controller", key: "mcs.powershell.executor", snapIn: "Citrix MachineCreation and Broker snap-ins" };

/** Side effects of the provider: where a script runs, and the script's poll interval, so tests never wait. */
export interface PowerShellCatalogImageEnvironment {
  /** @default executorFor with MCS_ROLE */
  readonly executorOf?: (config: PowerShellExecutorConfig) => PowerShellExecutor;
  /** @default PROV_TASK_POLL_SECONDS (publish-image-script.ts) */
  readonly pollSeconds?: number;
}

function executorOf(config: PowerShellExecutorConfig, environment: PowerShellCatalogImageEnvironment): PowerShellExecutor {
  return environment.executorOf ? environment.executorOf(config) : executorFor(config, createExec(), process.platform, process.env, MCS_ROLE);
}

async function runForResult(executor: PowerShellExecutor, script: string): Promise<Record<string, unknown>> {
  const { stdout } = await executor.run(script);
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith(RESULT_MARKER));
  if (!line) throw new PowerShellError(`the ${MCS_ROLE.script} on ${executor.where} printed no result line; its output was:\n${stdout.trim()}`, executor.where);
  return JSON.parse(line.slice(RESULT_MARKER.length)) as Record<string, unknown>;
}

/** Publishes `imagePath` to the catalog; returns the image it had before. */
async function pointAt(inputs: PowerShellCatalogImageInputs, imagePath: string, environment: PowerShellCatalogImageEnvironment): Promise<string> {
  const script = publishImageScript({ ...inputs, masterImagePath: imagePath, ...(environment.pollSeconds !== undefined ? { pollSeconds: environment.pollSeconds } : {}) });
  const result = await runForResult(executorOf(inputs.executor, environment), script);
  return String(result.previousImagePath ?? "");
}

/** The master image the catalog serves now (Get-ProvScheme MasterImageVM); status compares it with the stack's pin. */
export async function readPowerShellCatalogImage(inputs: Pick<PowerShellCatalogImageInputs, "adminAddress" | "catalogName" | "executor">, environment: PowerShellCatalogImageEnvironment = {}): Promise<string> {
  const result = await runForResult(executorOf(inputs.executor, environment), currentImageScript(inputs));
  return String(result.masterImagePath ?? "");
}

export async function createPowerShellCatalogImage(inputs: PowerShellCatalogImageInputs, environment: PowerShellCatalogImageEnvironment = {}): Promise<{ id: string; outs: PowerShellCatalogImageOutputs }> {
  const previousImagePath = await pointAt(inputs, inputs.masterImagePath, environment);
  return { id: inputs.catalogName, outs: { ...inputs, previousImagePath } };
}

export function diffPowerShellCatalogImage(olds: PowerShellCatalogImageOutputs, news: PowerShellCatalogImageInputs) {
  const replaces = (["adminAddress", "catalogName"] as const).filter((key) => olds[key] !== news[key]);
  const changes =
    replaces.length > 0 ||
    (["masterImagePath", "reboot", "rebootWarningMinutes", "rebootDurationMinutes"] as const).some((key) => olds[key] !== news[key]) ||
    JSON.stringify(olds.executor) !== JSON.stringify(news.executor);
  return { changes, replaces: [...replaces], deleteBeforeReplace: false };
}

/** A new image on the same catalog: the image being replaced becomes the rollback target. */
export async function updatePowerShellCatalogImage(
  _id: string,
  olds: { readonly masterImagePath: string; readonly previousImagePath: string },
  news: PowerShellCatalogImageInputs,
  environment: PowerShellCatalogImageEnvironment = {},
): Promise<{ outs: PowerShellCatalogImageOutputs }> {
  if (olds.masterImagePath !== news.masterImagePath) await pointAt(news, news.masterImagePath, environment);
  return { outs: { ...news, previousImagePath: olds.masterImagePath === news.masterImagePath ? olds.previousImagePath : olds.masterImagePath } };
}

/** Rolls the catalog back to the image it had before this resource changed it. */
export async function deletePowerShellCatalogImage(_id: string, olds: PowerShellCatalogImageOutputs, environment: PowerShellCatalogImageEnvironment = {}): Promise<void> {
  await pointAt(olds, olds.previousImagePath, environment);
}
