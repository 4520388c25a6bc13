/**
 * Dynamic providers of the MCS side: the XO snapshot and the catalog master-image update. Logic in
 * src/publish/mcs/; each method loads it by absolute URL (see vdisk.ts for why).
 */
import * as pulumi from "@pulumi/pulumi";
import type { XoSnapshotInputs, XoSnapshotOutputs } from "../mcs/xo-snapshot.ts";
import type { CatalogImageInputs, CatalogImageOutputs } from "../mcs/catalog-image.ts";
import { tsModule } from "../../util/ts-module.ts";

const xo = tsModule<typeof import("../mcs/xo-snapshot.ts")>(new URL("../mcs/xo-snapshot.ts", import.meta.url).href);
const catalog = tsModule<typeof import("../mcs/catalog-image.ts")>(new URL("../mcs/catalog-image.ts", import.meta.url).href);

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
  async create(inputs: CatalogImageInputs) {
    return (await catalog()).createCatalogImage(inputs);
  },
  async diff(_id: string, olds: CatalogImageOutputs, news: CatalogImageInputs) {
    return (await catalog()).diffCatalogImage(olds, news);
  },
  async update(id: string, olds: CatalogImageOutputs, news: CatalogImageInputs) {
    return (await catalog()).updateCatalogImage(id, olds, news);
  },
  async delete(id: string, olds: CatalogImageOutputs) {
    await (await catalog()).deleteCatalogImage(id, olds);
  },
} satisfies pulumi.dynamic.ResourceProvider<CatalogImageInputs, CatalogImageOutputs>;

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
  constructor(name: string, args: Args<CatalogImageInputs>, opts?: pulumi.CustomResourceOptions) {
    super(catalogImageProvider, name, { ...args, previousImagePath: undefined }, opts, "rebake", "CatalogImage");
  }
}
