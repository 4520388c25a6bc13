/**
 * Create / diff / update / delete of a vDisk's registration with one PVS site, behind the PVS
 * registration dynamic provider. Create and update run the idempotent register script; delete
 * removes the disk locator (the store files are the vDisk resource's business).
 */
import { createExec, type Exec } from "../util/exec.ts";
import type { PvsExecutorConfig } from "../stacks/model.ts";
import { executorFor, PowerShellError } from "./executor.ts";
import { psQuote } from "../util/ps-quote.ts";
import { registerVdiskScript, RESULT_MARKER, type RegisterVdiskRequest } from "./register-script.ts";

export interface RegistrationInputs extends RegisterVdiskRequest {
  readonly executor: PvsExecutorConfig;
  /** The vDisk resource's sha256: a new file means registering again. */
  readonly sha256: string;
}

export interface RegistrationOutputs extends RegistrationInputs {
  readonly imported: boolean;
}

const REPLACING_KEYS = ["vdiskName", "storeName", "siteName", "connectionServer", "sha256"] as const;

export async function createRegistration(inputs: RegistrationInputs, exec: Exec = createExec()): Promise<{ id: string; outs: RegistrationOutputs }> {
  const executor = executorFor(inputs.executor, exec);
  const { stdout } = await executor.run(registerVdiskScript(inputs));
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith(RESULT_MARKER));
  if (!line) throw new PowerShellError(`the PVS register script on ${executor.where} printed no result line; its output was:\n${stdout.trim()}`, executor.where);
  const result = JSON.parse(line.slice(RESULT_MARKER.length)) as { imported?: boolean };
  return { id: `${inputs.siteName}/${inputs.storeName}/${inputs.vdiskName}`, outs: { ...inputs, imported: Boolean(result.imported) } };
}

export function diffRegistration(olds: RegistrationOutputs, news: RegistrationInputs) {
  const replaces = REPLACING_KEYS.filter((key) => olds[key] !== news[key]);
  const changes = replaces.length > 0 || (["description", "writeCacheType", "writeCacheSizeMiB", "accessMode", "port", "serverName"] as const).some((key) => olds[key] !== news[key]) || JSON.stringify(olds.executor) !== JSON.stringify(news.executor);
  return { changes, replaces: [...replaces], deleteBeforeReplace: replaces.length > 0 && olds.vdiskName === news.vdiskName };
}

export async function updateRegistration(_id: string, _olds: RegistrationOutputs, news: RegistrationInputs, exec: Exec = createExec()) {
  return { outs: (await createRegistration(news, exec)).outs };
}

/** Removes the disk locator only (`-DeleteDiskFiles` is never passed: the files belong to the vDisk resource). */
export function unregisterScript(olds: RegisterVdiskRequest): string {
  return [
    "$ErrorActionPreference = 'Stop'",
    "Add-PSSnapin Citrix.PVS.SnapIn",
    `Set-PvsConnection -Server ${psQuote(olds.connectionServer)} -Port ${olds.port}`,
    `Remove-PvsDiskLocator -DiskLocatorName ${psQuote(olds.vdiskName)} -StoreName ${psQuote(olds.storeName)} -SiteName ${psQuote(olds.siteName)}`,
    "",
  ].join("\r\n");
}

export async function deleteRegistration(_id: string, olds: RegistrationOutputs, exec: Exec = createExec()): Promise<void> {
  await executorFor(olds.executor, exec).run(unregisterScript(olds));
}
