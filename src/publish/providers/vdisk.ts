/**
 * The PVS vDisk dynamic provider: one vDisk in one store. The logic is in
 * src/stores/vdisk-resource.ts; this file is the Pulumi face of it.
 *
 * The engine serialises dynamic providers and runs them in a plain Node host without a TypeScript
 * loader, so each method loads the implementation through tsx's `tsImport` by absolute URL
 * (captured as a string) instead of capturing imported modules.
 */
import * as pulumi from "@pulumi/pulumi";
import type { VdiskInputs, VdiskOutputs } from "../../stores/vdisk-resource.ts";
import { tsModule } from "../../util/ts-module.ts";

const implementation = tsModule<typeof import("../../stores/vdisk-resource.ts")>(new URL("../../stores/vdisk-resource.ts", import.meta.url).href);

export const vdiskProvider = {
  async create(inputs: VdiskInputs) {
    return (await implementation()).createVdisk(inputs);
  },
  async diff(_id: string, olds: VdiskOutputs, news: VdiskInputs) {
    return (await implementation()).diffVdisk(olds, news);
  },
  async update(id: string, olds: VdiskOutputs, news: VdiskInputs) {
    return (await implementation()).updateVdisk(id, olds, news);
  },
  async delete(id: string, olds: VdiskOutputs) {
    await (await implementation()).deleteVdisk(id, olds);
  },
  async read(id: string, olds?: VdiskOutputs) {
    return olds ? (await implementation()).readVdiskResource(id, olds) : {};
  },
} satisfies pulumi.dynamic.ResourceProvider<VdiskInputs, VdiskOutputs>;

export type VdiskArgs = { readonly [K in keyof VdiskInputs]: pulumi.Input<VdiskInputs[K]> };

/** A vDisk copied into a PVS store. */
export class Vdisk extends pulumi.dynamic.Resource {
  declare readonly sha256: pulumi.Output<string>;
  declare readonly store: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly skipped: pulumi.Output<boolean>;

  constructor(name: string, args: VdiskArgs, opts?: pulumi.CustomResourceOptions) {
    super(vdiskProvider, name, { ...args, skipped: undefined }, opts, "rebake", "Vdisk");
  }
}
