/**
 * The PVS target-device dynamic provider and the function that declares one resource per manifest
 * row. Resources are named by MAC (`device-aabbccddeeff`), so adding a row adds one device,
 * removing a row removes one, and reordering rows changes nothing. The provider loads its logic
 * through tsx's tsImport by URL, like the providers in src/publish/providers/ (the engine runs
 * dynamic providers in a plain Node host without a TypeScript loader).
 */
import * as pulumi from "@pulumi/pulumi";
import type { PvsConfig } from "../stacks/model.ts";
import type { DeviceInputs, DeviceOutputs } from "./device-resource.ts";
import { macKey } from "./mac.ts";
import type { DeviceRow } from "./model.ts";
import { tsModule } from "../util/ts-module.ts";

const implementation = tsModule<typeof import("./device-resource.ts")>(new URL("./device-resource.ts", import.meta.url).href);

export const pvsDeviceProvider = {
  async create(inputs: DeviceInputs) {
    return (await implementation()).createDevice(inputs);
  },
  async diff(_id: string, olds: DeviceOutputs, news: DeviceInputs) {
    return (await implementation()).diffDevice(olds, news);
  },
  async update(id: string, olds: DeviceOutputs, news: DeviceInputs) {
    return (await implementation()).updateDevice(id, olds, news);
  },
  async delete(id: string, olds: DeviceOutputs) {
    await (await implementation()).deleteDevice(id, olds);
  },
} satisfies pulumi.dynamic.ResourceProvider<DeviceInputs, DeviceOutputs>;

export type PvsDeviceArgs = { readonly [K in keyof DeviceInputs]: pulumi.Input<DeviceInputs[K]> };

/** One PVS target device booting one vDisk. */
export class PvsDevice extends pulumi.dynamic.Resource {
  declare readonly created: pulumi.Output<boolean>;

  constructor(name: string, args: PvsDeviceArgs, opts?: pulumi.CustomResourceOptions) {
    super(pvsDeviceProvider, name, { ...args, created: undefined }, opts, "rebake", "PvsDevice");
  }
}

export class DeviceArgsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`cannot declare the PVS devices: ${problems.join("; ")}`);
    this.name = new.target.name;
  }
}

export interface DeviceContext {
  readonly pvs: PvsConfig;
  /** The published vDisk name per image (recipe name) and site: `image -> site -> vDisk`. */
  readonly vdisks: Readonly<Record<string, Readonly<Record<string, pulumi.Input<string>>>>>;
}

export const deviceResourceName = (mac: string) => `device-${macKey(mac)}`;

/** The inputs of every device, checked first as a whole: a pure function, tested on its own. */
export function deviceInputs(devices: readonly DeviceRow[], context: DeviceContext): { name: string; args: PvsDeviceArgs }[] {
  const problems: string[] = [];
  const out = devices.flatMap((device) => {
    const site = context.pvs.sites.find((s) => s.name === device.site);
    const vdisk = context.vdisks[device.image]?.[device.site];
    if (!site) problems.push(`${device.file}:${device.line}: site ${device.site} is not a PVS site of the stack`);
    else if (vdisk === undefined) problems.push(`${device.file}:${device.line}: image ${device.image} is not published to site ${device.site} by this stack`);
    if (!site || vdisk === undefined) return [];
    const args: PvsDeviceArgs = {
      executor: context.pvs.executor,
      connectionServer: context.pvs.server,
      port: context.pvs.port,
      mac: device.mac,
      deviceName: device.name,
      collectionName: device.collection,
      siteName: device.site,
      diskLocatorName: vdisk,
      storeName: site.store.name,
      accessMode: context.pvs.accessMode,
    };
    return [{ name: deviceResourceName(device.mac), args }];
  });
  if (problems.length) throw new DeviceArgsError(problems);
  return out;
}

/** Declares one PvsDevice per row; call it from the publish program with the GoldenImage as parent. */
export function declareDevices(devices: readonly DeviceRow[], context: DeviceContext, opts?: pulumi.CustomResourceOptions): PvsDevice[] {
  return deviceInputs(devices, context).map(({ name, args }) => new PvsDevice(name, args, opts));
}
