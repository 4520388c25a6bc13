/** The PVS vDisk version dynamic provider; the logic is in src/pvs/version-registration.ts. */
import * as pulumi from "@pulumi/pulumi";
import type { VersionRegistrationInputs, VersionRegistrationOutputs } from "../../pvs/version-registration.ts";

const IMPLEMENTATION = new URL("../../pvs/version-registration.ts", import.meta.url).href;
type Implementation = typeof import("../../pvs/version-registration.ts");

async function implementation(): Promise<Implementation> {
  const { tsImport } = await import("tsx/esm/api");
  return (await tsImport(IMPLEMENTATION, IMPLEMENTATION)) as Implementation;
}

export const pvsVersionProvider = {
  async create(inputs: VersionRegistrationInputs) {
    return (await implementation()).createVersionRegistration(inputs);
  },
  async diff(_id: string, olds: VersionRegistrationOutputs, news: VersionRegistrationInputs) {
    return (await implementation()).diffVersionRegistration(olds, news);
  },
  async update(id: string, olds: VersionRegistrationOutputs, news: VersionRegistrationInputs) {
    return (await implementation()).updateVersionRegistration(id, olds, news);
  },
  // Deleting leaves the version in PVS (see version-registration.ts): nothing to undo here.
  async delete() {},
} satisfies pulumi.dynamic.ResourceProvider<VersionRegistrationInputs, VersionRegistrationOutputs>;

export type PvsVersionArgs = { readonly [K in keyof VersionRegistrationInputs]: pulumi.Input<VersionRegistrationInputs[K]> };

/** A vDisk version registered with one PVS site, at the stack's access. */
export class PvsVersion extends pulumi.dynamic.Resource {
  declare readonly access: pulumi.Output<number>;

  constructor(name: string, args: PvsVersionArgs, opts?: pulumi.CustomResourceOptions) {
    super(pvsVersionProvider, name, { ...args, access: undefined, merged: undefined }, opts, "rebake", "PvsVersion");
  }
}
