/**
 * GoldenImage: one image version published to one environment. PVS: the vDisk copied into every
 * site's store and registered with the site's PVS server in the stack's access mode. MCS: every
 * catalog pointed at the snapshot the build took and verified (or, for a golden VM rebake did
 * not build, a snapshot taken here).
 */
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { mcsSnapshotPath, type McsSnapshotPlacement } from "../hypervisors/mcs-snapshot-path.ts";
import { checkGoldenImageArgs, GoldenImageArgsError, type GoldenImageArgs } from "./golden-image-args.ts";
import { DEFAULT_WRITE_CACHE, publishedVdiskName, snapshotOf, vdiskPropertiesOf, vhdxOf } from "../stores/published-vdisk.ts";
import { Vdisk } from "./providers/vdisk.ts";
import { PvsRegistration } from "./providers/pvs-registration.ts";
import { PvsVersion } from "./providers/pvs-version.ts";
import { CatalogImage, XoSnapshot } from "./providers/mcs.ts";
import { VirtualMachineSnapshot } from "./vsphere-snapshot.ts";
import type { VersionRecord } from "../distribute/version-record.ts";

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

  private publishPvs({ stack, manifest, manifestDir, version, writeCache = DEFAULT_WRITE_CACHE }: GoldenImageArgs): void {
    const pvs = stack.pvs!;
    if (version) return this.publishPvsVersion(pvs, version);
    const vhdx = vhdxOf(manifest)!;
    const vdiskName = publishedVdiskName(manifest, vhdx);
    const properties = vdiskPropertiesOf(manifest, writeCache);
    for (const site of pvs.sites) {
      const disk = new Vdisk(`${site.name}-vdisk`, {
        store: site.store.location,
        ...(site.store.username ? { username: site.store.username } : {}),
        ...(site.store.password ? { passwordRef: site.store.password } : {}),
        name: vdiskName,
        source: join(manifestDir, vhdx.path),
        sha256: vhdx.sha256,
        size: vhdx.size,
        properties,
      }, { parent: this });
      new PvsRegistration(`${site.name}-registration`, {
        executor: pvs.executor,
        connectionServer: pvs.server,
        port: pvs.port,
        vdiskName,
        storeName: site.store.name,
        siteName: site.name,
        description: properties.description,
        writeCacheType: writeCache.type,
        writeCacheSizeMiB: writeCache.sizeMiB,
        accessMode: pvs.accessMode,
        sha256: disk.sha256,
      }, { parent: this, dependsOn: [disk] });
      this.published[site.name] = vdiskName;
    }
  }

  /**
   * A vDisk version: `rebake sync` put `<vdisk>.<n>.avhdx` into every store (or the full vDisk
   * where the parent was missing); each site adds the version and gives it the stack's access.
   */
  private publishPvsVersion(pvs: NonNullable<GoldenImageArgs["stack"]["pvs"]>, version: VersionRecord): void {
    for (const site of pvs.sites) {
      new PvsVersion(`${site.name}-version`, {
        executor: pvs.executor,
        connectionServer: pvs.server,
        port: pvs.port,
        vdiskName: version.vdisk,
        storeName: site.store.name,
        siteName: site.name,
        number: version.number,
        accessMode: pvs.accessMode,
        ...(pvs.maxVersionChain === undefined ? {} : { maxChain: pvs.maxVersionChain }),
        sha256: version.sha256,
      }, { parent: this });
      this.published[site.name] = version.vdisk;
    }
  }

  private publishMcs(args: GoldenImageArgs): void {
    const built = snapshotOf(args.manifest);
    // Promote what was verified: the build's own snapshot, not a new one of a VM that moved on.
    // checkGoldenImageArgs refused a built snapshot without its placement.
    const target = built ? { vmName: built.vm.name, placement: built.placement!, dependsOn: [] } : this.snapshotStackGoldenVm(args);
    const { cvad, catalogs } = args.stack.mcs!;
    for (const catalog of catalogs) {
      const masterImagePath = mcsSnapshotPath(catalog.hostingUnit, target.vmName, target.placement);
      new CatalogImage(`${catalog.name}-image`, {
        url: cvad.url,
        customerId: cvad.customerId,
        siteId: cvad.siteId,
        tokenRef: cvad.token,
        catalogId: catalog.id,
        masterImagePath,
        reboot: catalog.reboot,
        rebootWarningMinutes: catalog.rebootWarningMinutes,
        rebootDurationMinutes: catalog.rebootDurationMinutes,
      }, { parent: this, dependsOn: target.dependsOn });
      this.published[catalog.name] = masterImagePath;
    }
  }

  /** A snapshot, owned by this stack, of a golden VM named in the stack file. */
  private snapshotStackGoldenVm({ stack, manifest }: GoldenImageArgs): { vmName: string; placement: McsSnapshotPlacement; dependsOn: pulumi.Resource[] } {
    const mcs = stack.mcs!;
    if (!mcs.goldenVm) {
      throw new GoldenImageArgsError([`the manifest of ${manifest.recipe.name} ${manifest.recipe.version} has no snapshot and ${stack.file} names no rebake:mcs.goldenVm to snapshot`]);
    }
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
    const placement = { resourcePools: mcs.goldenVm.resourcePools ?? [], snapshotChain: [...(mcs.goldenVm.snapshots ?? []), snapshotName] };
    return { vmName: mcs.goldenVm.name, placement, dependsOn: [snapshot] };
  }
}
