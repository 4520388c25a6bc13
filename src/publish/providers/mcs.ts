/**
 * Dynamic providers of the MCS side: the XO snapshot and the catalog master-image update. Logic in
 * src/publish/mcs/; each method loads it by absolute URL (see vdisk.ts for why).
 */
import * as pulumi from "@pulumi/pulumi";
import type { XoSnapshotInputs, XoSnapshotOutputs } from "../mcs/xo-snapshot.ts";
import type { CatalogImageInputs, CatalogImageOutputs } from "../mcs/catalog-image.ts";

const XO_IMPLEMENTATION = new URL("../mcs/xo-snapshot.ts", import.meta.url).href;
const CATALOG_IMPLEMENTATION = new URL("../mcs/catalog-image.ts", import.meta.url).href;

async function load<T>(url: string): Promise<T> {
  const { tsImport } = await import("tsx/esm/api");
  return (await tsImport(url, url)) as T;
}

type Xo = typeof import("../mcs/xo-snapshot.ts");
type Catalog = typeof import("../mcs/catalog-image.ts");

export const xoSnapshotProvider = {
  async create(inputs: XoSnapshotInputs) {
    return (await load<Xo>(XO_IMPLEMENTATION)).createXoSnapshot(inputs);
  },
  async diff(_id: string, olds: XoSnapshotOutputs, news: XoSnapshotInputs) {
    return (await load<Xo>(XO_IMPLEMENTATION)).diffXoSnapshot(olds, news);
  },
  async delete(id: string, olds: XoSnapshotOutputs) {
    await (await load<Xo>(XO_IMPLEMENTATION)).deleteXoSnapshot(id, olds);
  },
} satisfies pulumi.dynamic.ResourceProvider<XoSnapshotInputs, XoSnapshotOutputs>;

export const catalogImageProvider = {
  async create(inputs: CatalogImageInputs) {
    return (await load<Catalog>(CATALOG_IMPLEMENTATION)).createCatalogImage(inputs);
  },
  async diff(_id: string, olds: CatalogImageOutputs, news: CatalogImageInputs) {
    return (await load<Catalog>(CATALOG_IMPLEMENTATION)).diffCatalogImage(olds, news);
  },
  async update(id: string, olds: CatalogImageOutputs, news: CatalogImageInputs) {
    return (await load<Catalog>(CATALOG_IMPLEMENTATION)).updateCatalogImage(id, olds, news);
  },
  async delete(id: string, olds: CatalogImageOutputs) {
    await (await load<Catalog>(CATALOG_IMPLEMENTATION)).deleteCatalogImage(id, olds);
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
