/**
 * Create / diff / update / delete of one vDisk version's registration with one PVS site, behind
 * the PVS version dynamic provider. Create and update run the idempotent ensure script (a changed
 * access mode is a promote; an older number is a rollback). Delete leaves the version in PVS: a
 * version is part of the chain later versions read through, and PVS removes it only by merging
 * (Merge-PvsDisk), which the script does once the chain outgrows its limit.
 */
import { createExec, type Exec } from "../util/exec.ts";
import type { PvsExecutorConfig } from "../stacks/model.ts";
import { executorFor, PowerShellError } from "./executor.ts";
import { RESULT_MARKER } from "./register-script.ts";
import { ensureVersionScript, type VersionRequest } from "./version-script.ts";

export interface VersionRegistrationInputs extends VersionRequest {
  readonly executor: PvsExecutorConfig;
  /** The version file's sha256: a new file means registering again. */
  readonly sha256: string;
}

export interface VersionRegistrationOutputs extends VersionRegistrationInputs {
  /** Get-PvsDiskVersion Access of the version after the run. */
  readonly access: number;
  readonly merged: boolean;
}

const REPLACING_KEYS = ["vdiskName", "storeName", "siteName", "connectionServer"] as const;

export async function createVersionRegistration(inputs: VersionRegistrationInputs, exec: Exec = createExec()): Promise<{ id: string; outs: VersionRegistrationOutputs }> {
  const executor = executorFor(inputs.executor, exec);
  const { stdout } = await executor.run(ensureVersionScript(inputs));
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith(RESULT_MARKER));
  if (!line) throw new PowerShellError(`the PVS version script on ${executor.where} printed no result line; its output was:\n${stdout.trim()}`, executor.where);
  const result = JSON.parse(line.slice(RESULT_MARKER.length)) as { access?: number; merged?: boolean };
  return { id: `${inputs.siteName}/${inputs.storeName}/${inputs.vdiskName}`, outs: { ...inputs, access: result.access ?? -1, merged: Boolean(result.merged) } };
}

export function diffVersionRegistration(olds: VersionRegistrationOutputs, news: VersionRegistrationInputs) {
  const replaces = REPLACING_KEYS.filter((key) => olds[key] !== news[key]);
  const changes = replaces.length > 0 || (["number", "accessMode", "maxChain", "sha256", "port"] as const).some((key) => olds[key] !== news[key]) || JSON.stringify(olds.executor) !== JSON.stringify(news.executor);
  return { changes, replaces: [...replaces] };
}

export async function updateVersionRegistration(_id: string, _olds: VersionRegistrationOutputs, news: VersionRegistrationInputs, exec: Exec = createExec()) {
  return { outs: (await createVersionRegistration(news, exec)).outs };
}
