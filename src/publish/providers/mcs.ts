/**
 * Dynamic providers of the MCS side: the XO snapshot and the catalog master-image update. Logic in
 * src/publish/mcs/; each method loads it by absolute URL (see vdisk.ts for why). The catalog image
 * goes through the CVAD REST API or, with `via: "powershell"`, through Publish-ProvMasterVMImage on
 * a Delivery Controller; one resource type for both, so switching the way on a stack updates the
 * catalog in place instead of replacing the resource (a replacement's delete would roll it back).
 */
import * as pulumi from "@pulumi/pulumi";
import type { XoSnapshotInputs, XoSnapshotOutputs } from "../mcs/xo-snapshot.ts";
import type { CatalogImageInputs, CatalogImageOutputs } from "../mcs/catalog-image.ts";
import type { PowerShellCatalogImageInputs, PowerShellCatalogImageOutputs } from "../mcs/catalog-image-powershell.ts";
import { tsModule } from "../../util/ts-module.ts";

const xo = tsModule<typeof import("../mcs/xo-snapshot.ts")>(new URL("../mcs/xo-snapshot.ts", import.meta.url).href);
const catalog = tsModule<typeof import("../mcs/catalog-image.ts")>(new URL("../mcs/catalog-image.ts", import.meta.url).href);
const catalogPs = tsModule<typeof import("../mcs/catalog-image-powershell.ts")>(new URL("../mcs/catalog-image-powershell.ts", import.meta.url).href);

export type AnyCatalogImageInputs = CatalogImageInputs | PowerShellCatalogImageInputs;
export type AnyCatalogImageOutputs = CatalogImageOutputs | PowerShellCatalogImageOutputs;

function viaPowerShell<T extends AnyCatalogImageInputs>(inputs: T): inputs is Extract<T, PowerShellCatalogImageInputs> {
  return "via" in inputs && inputs.via === "powershell";
}

export const xoSnapshotProvider = {
  async create(inputs: XoSnapshotInputs) {
    return (await xo()).createXoSnapshot(inputs);
  },
  async diff(_id: string, olds: XoSnapshotOutputs, news: XoSnapshotInputs) {
    return (await xo()).diffXoSnapshot(olds, news);
  },
  async delete(id: string, olds: XoSnapshotOutputs) {
    await (await xo()).deleteXoSnapshot(id, olds);
  },
} satisfies pulumi.dynamic.ResourceProvider<XoSnapshotInputs, XoSnapshotOutputs>;

export const catalogImageProvider = {
  async create(inputs: AnyCatalogImageInputs): Promise<{ id: string; outs: AnyCatalogImageOutputs }> {
    return viaPowerShell(inputs) ? (await catalogPs()).createPowerShellCatalogImage(inputs) : (await catalog()).createCatalogImage(inputs);
  },
  async diff(_id: string, olds: AnyCatalogImageOutputs, news: AnyCatalogImageInputs) {
    if (viaPowerShell(olds) !== viaPowerShell(news)) return { changes: true, replaces: [], deleteBeforeReplace: false };
    return viaPowerShell(news) ? (await catalogPs()).diffPowerShellCatalogImage(olds as PowerShellCatalogImageOutputs, news) : (await catalog()).diffCatalogImage(olds as CatalogImageOutputs, news as CatalogImageInputs);
  },
  async update(id: string, olds: AnyCatalogImageOutputs, news: AnyCatalogImageInputs): Promise<{ outs: AnyCatalogImageOutputs }> {
    return viaPowerShell(news) ? (await catalogPs()).updatePowerShellCatalogImage(id, olds, news) : (await catalog()).updateCatalogImage(id, olds, news);
  },
  async delete(id: string, olds: AnyCatalogImageOutputs) {
    if (viaPowerShell(olds)) await (await catalogPs()).deletePowerShellCatalogImage(id, olds);
    else await (await catalog()).deleteCatalogImage(id, olds);
  },
} satisfies pulumi.dynamic.ResourceProvider<AnyCatalogImageInputs, AnyCatalogImageOutputs>;

type Args<T> = { readonly [K in keyof T]: pulumi.Input<T[K]> };

/** A snapshot of the golden VM in Xen Orchestra. */
export class XoSnapshot extends pulumi.dynamic.Resource {
  declare readonly snapshotId: pulumi.Output<string>;
  constructor(name: string, args: Args<XoSnapshotInputs>, opts?: pulumi.CustomResourceOptions) {
    super(xoSnapshotProvider, name, { ...args, snapshotId: undefined }, opts, "rebake", "XoSnapshot");
  }
}

/** An MCS catalog pointed at a master image; deleting it rolls the catalog back. */
export class CatalogImage extends pulumi.dynamic.Resource {
  declare readonly previousImagePath: pulumi.Output<string>;
  constructor(name: string, args: Args<CatalogImageInputs> | Args<PowerShellCatalogImageInputs>, opts?: pulumi.CustomResourceOptions) {
    super(catalogImageProvider, name, { ...args, previousImagePath: undefined }, opts, "rebake", "CatalogImage");
  }
}
