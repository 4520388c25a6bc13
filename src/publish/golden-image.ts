/**
 * GoldenImage: one image version published to one environment. PVS: the vDisk copied into every
 * site's store and registered with the site's PVS server in the stack's access mode. MCS: a
 * snapshot of the golden VM and every catalog pointed at it.
 */
import { basename, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { mcsSnapshotPath } from "../hypervisors/vsphere/mcs-snapshot-path.ts";
import { checkGoldenImageArgs, DEFAULT_WRITE_CACHE, GoldenImageArgsError, vhdxOf, type GoldenImageArgs } from "./golden-image-args.ts";
import { Vdisk } from "./providers/vdisk.ts";
import { PvsRegistration } from "./providers/pvs-registration.ts";
import { CatalogImage, XoSnapshot } from "./providers/mcs.ts";
import { VirtualMachineSnapshot } from "./vsphere-snapshot.ts";

export const GOLDEN_IMAGE_TYPE = "rebake:index:GoldenImage";

export class GoldenImage extends pulumi.ComponentResource {
  /** PVS: `<site>` -> vDisk name; MCS: catalog -> master image path. */
  readonly published: Record<string, string> = {};

  constructor(name: string, args: GoldenImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(GOLDEN_IMAGE_TYPE, name, {}, opts);
    const problems = checkGoldenImageArgs(args);
    if (problems.length) throw new GoldenImageArgsError(problems);
    if (args.stack.target === "pvs") this.publishPvs(args);
    else this.publishMcs(args);
    this.registerOutputs({ published: this.published });
  }

  private publishPvs({ stack, manifest, manifestDir, writeCache = DEFAULT_WRITE_CACHE }: GoldenImageArgs): void {
    const pvs = stack.pvs!;
    const vhdx = vhdxOf(manifest)!;
    const vdiskName = `${basename(vhdx.path, ".vhdx")}-${manifest.recipe.version}`;
    const description = `${manifest.recipe.name} ${manifest.recipe.version} (build ${manifest.buildId})`;
    for (const site of pvs.sites) {
      const disk = new Vdisk(`${site.name}-vdisk`, {
        store: site.store.location,
        ...(site.store.username ? { username: site.store.username } : {}),
        ...(site.store.password ? { passwordRef: site.store.password } : {}),
        name: vdiskName,
        source: join(manifestDir, vhdx.path),
        sha256: vhdx.sha256,
        size: vhdx.size,
        properties: {
          description,
          writeCacheType: writeCache.type,
          writeCacheSizeMiB: writeCache.sizeMiB,
          recipe: manifest.recipe.name,
          version: manifest.recipe.version,
          recipeHash: manifest.recipe.hash,
          buildId: manifest.buildId,
        },
      }, { parent: this });
      new PvsRegistration(`${site.name}-registration`, {
        executor: pvs.executor,
        connectionServer: pvs.server,
        port: pvs.port,
        vdiskName,
        storeName: site.store.name,
        siteName: site.name,
        serverName: site.server,
        description,
        writeCacheType: writeCache.type,
        writeCacheSizeMiB: writeCache.sizeMiB,
        accessMode: pvs.accessMode,
        sha256: disk.sha256,
      }, { parent: this, dependsOn: [disk] });
      this.published[site.name] = vdiskName;
    }
  }

  private publishMcs({ stack, manifest }: GoldenImageArgs): void {
    const mcs = stack.mcs!;
    const snapshotName = `${manifest.recipe.name}-${manifest.recipe.version}`;
    const description = `rebake ${manifest.recipe.name} ${manifest.recipe.version} build ${manifest.buildId} (recipe ${manifest.recipe.hash.slice(0, 12)})`;
    let snapshot: pulumi.CustomResource;
    if (stack.hypervisor.kind === "vsphere") {
      snapshot = new VirtualMachineSnapshot("snapshot", { virtualMachineUuid: mcs.goldenVm.uuid, snapshotName, description, memory: false, quiesce: false }, { parent: this });
    } else if (stack.hypervisor.kind === "xenorchestra") {
      snapshot = new XoSnapshot("snapshot", { url: stack.hypervisor.url, tokenRef: stack.hypervisor.token, vmUuid: mcs.goldenVm.uuid, snapshotName }, { parent: this });
    } else {
      throw new GoldenImageArgsError([`MCS needs a vsphere or xenorchestra hypervisor, ${stack.file} has ${stack.hypervisor.kind}`]);
    }
    for (const catalog of mcs.catalogs) {
      const masterImagePath = mcsSnapshotPath(catalog.hostingUnit, mcs.goldenVm.name, snapshotName);
      new CatalogImage(`${catalog.name}-image`, {
        url: mcs.cvad.url,
        customerId: mcs.cvad.customerId,
        siteId: mcs.cvad.siteId,
        tokenRef: mcs.cvad.token,
        catalogId: catalog.id,
        masterImagePath,
        reboot: catalog.reboot,
        rebootWarningMinutes: catalog.rebootWarningMinutes,
      }, { parent: this, dependsOn: [snapshot] });
      this.published[catalog.name] = masterImagePath;
    }
  }
}
