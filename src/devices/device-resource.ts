/**
 * Create / diff / update / delete of one PVS target device, behind the device dynamic provider.
 * A failed create leaves no device behind only if New-PvsDevice itself failed; a device created
 * before a failed disk assignment is found by MAC and finished by the retry.
 */
import { executorFor, PowerShellError } from "../pvs/executor.ts";
import { RESULT_MARKER } from "../pvs/register-script.ts";
import type { PvsExecutorConfig } from "../stacks/model.ts";
import { createExec, type Exec } from "../util/exec.ts";
import { createDeviceScript, deleteDeviceScript, type DeviceRequest } from "./device-script.ts";

export interface DeviceInputs extends DeviceRequest {
  readonly executor: PvsExecutorConfig;
}

export interface DeviceOutputs extends DeviceInputs {
  readonly created: boolean;
}

/** A device is its MAC, name, collection and site: changing one is a new device in PVS. */
const REPLACING_KEYS = ["mac", "deviceName", "collectionName", "siteName", "connectionServer"] as const;
const UPDATING_KEYS = ["diskLocatorName", "storeName", "port", "accessMode"] as const;

export async function createDevice(inputs: DeviceInputs, exec: Exec = createExec()): Promise<{ id: string; outs: DeviceOutputs }> {
  const executor = executorFor(inputs.executor, exec);
  const { stdout } = await executor.run(createDeviceScript(inputs));
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith(RESULT_MARKER));
  if (!line) throw new PowerShellError(`the PVS device script for ${inputs.deviceName} on ${executor.where} printed no result line; its output was:\n${stdout.trim()}`, executor.where);
  const result = JSON.parse(line.slice(RESULT_MARKER.length)) as { created?: boolean };
  return { id: `${inputs.siteName}/${inputs.mac}`, outs: { ...inputs, created: Boolean(result.created) } };
}

export function diffDevice(olds: DeviceOutputs, news: DeviceInputs) {
  const replaces = REPLACING_KEYS.filter((key) => olds[key] !== news[key]);
  const changes = replaces.length > 0 || UPDATING_KEYS.some((key) => olds[key] !== news[key]) || JSON.stringify(olds.executor) !== JSON.stringify(news.executor);
  // The old device must go first: PVS refuses a second device with the same MAC or name.
  return { changes, replaces: [...replaces], deleteBeforeReplace: replaces.length > 0 };
}

export async function updateDevice(_id: string, _olds: DeviceOutputs, news: DeviceInputs, exec: Exec = createExec()) {
  return { outs: (await createDevice(news, exec)).outs };
}

export async function deleteDevice(_id: string, olds: DeviceOutputs, exec: Exec = createExec()): Promise<void> {
  await executorFor(olds.executor, exec).run(deleteDeviceScript(olds));
}
