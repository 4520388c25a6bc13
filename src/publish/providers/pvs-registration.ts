/** The PVS registration dynamic provider; the logic is in src/pvs/registration-resource.ts. */
import * as pulumi from "@pulumi/pulumi";
import type { RegistrationInputs, RegistrationOutputs } from "../../pvs/registration-resource.ts";
import { tsModule } from "../../util/ts-module.ts";

const implementation = tsModule<typeof import("../../pvs/registration-resource.ts")>(new URL("../../pvs/registration-resource.ts", import.meta.url).href);

export const pvsRegistrationProvider = {
  async create(inputs: RegistrationInputs) {
    return (await implementation()).createRegistration(inputs);
  },
  async diff(_id: string, olds: RegistrationOutputs, news: RegistrationInputs) {
    return (await implementation()).diffRegistration(olds, news);
  },
  async update(id: string, olds: RegistrationOutputs, news: RegistrationInputs) {
    return (await implementation()).updateRegistration(id, olds, news);
  },
  async delete(id: string, olds: RegistrationOutputs) {
    await (await implementation()).deleteRegistration(id, olds);
  },
} satisfies pulumi.dynamic.ResourceProvider<RegistrationInputs, RegistrationOutputs>;

export type PvsRegistrationArgs = { readonly [K in keyof RegistrationInputs]: pulumi.Input<RegistrationInputs[K]> };

/** A vDisk registered with one PVS site, in the stack's access mode. */
export class PvsRegistration extends pulumi.dynamic.Resource {
  declare readonly imported: pulumi.Output<boolean>;

  constructor(name: string, args: PvsRegistrationArgs, opts?: pulumi.CustomResourceOptions) {
    super(pvsRegistrationProvider, name, { ...args, imported: undefined }, opts, "rebake", "PvsRegistration");
  }
}
