/**
 * GoldenImage: one image version published to one environment. PVS: the vDisk copied into every
 * site's store and registered with the site's PVS server in the stack's access mode. MCS: every
 * catalog pointed at the snapshot the build took and verified (or, for a golden VM rebake did
 * not build, a snapshot taken here).
 */
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { mcsSnapshotPath } from "../hypervisors/mcs-snapshot-path.ts";
import { checkGoldenImageArgs, GoldenImageArgsError, mcsImageOf, type GoldenImageArgs } from "./golden-image-args.ts";
import { DEFAULT_WRITE_CACHE, publishedVdiskName, vdiskPropertiesOf, vhdxOf } from "../stores/published-vdisk.ts";
import { Vdisk } from "./providers/vdisk.ts";
import { PvsRegistration } from "./providers/pvs-registration.ts";
import { CatalogImage, XoSnapshot } from "./providers/mcs.ts";
import { VirtualMachineSnapshot } from "./vsphere-snapshot.ts";
import { PvsVersion } from "./providers/pvs-version.ts";
import type { VersionRecord } from "../distribute/version-record.ts";

export const GOLDEN_IMAGE_TYPE = "rebake:index:GoldenImage";

export class GoldenImage extends pulumi.ComponentResource {
  /**
   * PVS: `<site>` -> the pinned vDisk's name, an output of its registration (what assigns a
   * device to it waits for the registration); MCS: catalog -> master image path.
   */
  readonly published: Record<string, pulumi.Input<string>> = {};

  constructor(name: string, args: GoldenImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(GOLDEN_IMAGE_TYPE, name, {}, opts);
    const problems = checkGoldenImageArgs(args);
    if (problems.length) throw new GoldenImageArgsError(problems);
    if (args.stack.target === "pvs") this.publishPvs(args);
    else this.publishMcs(args);
    this.registerOutputs({ published: this.published });
  }

  /**
   * Each version is a full vDisk next to the others: the pinned one and the retained ones
   * (retention rule) stay declared, so an upgrade adds a vDisk and never deletes the one devices
   * stream; a version leaves the stores only when the program stops declaring it.
   */
  private publishPvs({ stack, manifest, manifestDir, version, retained = [], writeCache = DEFAULT_WRITE_CACHE }: GoldenImageArgs): void {
    if (version) return this.publishPvsDiskVersion(stack.pvs!, version);
    Object.assign(this.published, this.publishFullVdisk(stack, manifest, manifestDir, writeCache, true));
    for (const kept of retained) this.publishFullVdisk(stack, kept.manifest, kept.manifestDir, writeCache, kept.register);
  }

  /**
   * A vDisk version: `rebake sync` put `<vdisk>.<n>.avhdx` into every store (or the full vDisk
   * where the parent was missing); each site adds the version and gives it the stack's access.
   * Devices are assigned once the site's version exists (the name is taken from the resource).
   */
  private publishPvsDiskVersion(pvs: NonNullable<GoldenImageArgs["stack"]["pvs"]>, version: VersionRecord): void {
    for (const site of pvs.sites) {
      const added = new PvsVersion(`${site.name}-version`, {
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
      this.published[site.name] = added.id.apply(() => version.vdisk);
    }
  }

  /** One version into every site: copied into the store, then (`register`) registered with PVS. Returns site -> the registered vDisk name. */
  private publishFullVdisk(stack: GoldenImageArgs["stack"], manifest: GoldenImageArgs["manifest"], manifestDir: string, writeCache: NonNullable<GoldenImageArgs["writeCache"]>, register: boolean): Record<string, pulumi.Output<string>> {
    const pvs = stack.pvs!;
    const vhdx = vhdxOf(manifest)!;
    const vdiskName = publishedVdiskName(manifest, vhdx);
    const properties = vdiskPropertiesOf(manifest, writeCache);
    const version = manifest.recipe.version;
    const registered: Record<string, pulumi.Output<string>> = {};
    for (const site of pvs.sites) {
      const disk = new Vdisk(`${site.name}-vdisk-${version}`, {
        store: site.store.location,
        ...(site.store.username ? { username: site.store.username } : {}),
        ...(site.store.password ? { passwordRef: site.store.password } : {}),
        name: vdiskName,
        source: join(manifestDir, vhdx.path),
        sha256: vhdx.sha256,
        size: vhdx.size,
        properties,
      }, { parent: this });
      if (!register) continue;
      // Registered only once copied: its sha256 input is the copy's output.
      const registration = new PvsRegistration(`${site.name}-registration-${version}`, {
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
      registered[site.name] = registration.vdiskName;
    }
    return registered;
  }

  private publishMcs(args: GoldenImageArgs): void {
    const image = mcsImageOf(args.stack, args.manifest);
    if (!image) {
      throw new GoldenImageArgsError([`the manifest of ${args.manifest.recipe.name} ${args.manifest.recipe.version} has no snapshot and ${args.stack.file} names no rebake:mcs.goldenVm to snapshot`]);
    }
    // Promote what was verified: the build's own snapshot, not a new one of a VM that moved on.
    // checkGoldenImageArgs refused a built snapshot without its placement.
    const snapshot = image.built ? undefined : this.snapshotStackGoldenVm(args, image.snapshotName);
    const mcs = args.stack.mcs!;
    for (const catalog of mcs.catalogs) {
      const path = mcsSnapshotPath(catalog.hostingUnit, image.vmName, image.placement!);
      // The catalog update takes its image path from the snapshot resource: it cannot run before the snapshot exists.
      const masterImagePath = snapshot ? snapshot.id.apply(() => path) : path;
      const reboot = { reboot: catalog.reboot, rebootWarningMinutes: catalog.rebootWarningMinutes, rebootDurationMinutes: catalog.rebootDurationMinutes };
      // The stack loader made sure the section of the chosen way is there.
      const args_ =
        mcs.via === "powershell"
          ? { via: "powershell" as const, adminAddress: mcs.powershell!.adminAddress, executor: mcs.powershell!.executor, catalogName: catalog.name, masterImagePath, ...reboot }
          : { url: mcs.cvad!.url, customerId: mcs.cvad!.customerId, siteId: mcs.cvad!.siteId, tokenRef: mcs.cvad!.token, catalogId: catalog.id, masterImagePath, ...reboot };
      new CatalogImage(`${catalog.name}-image`, args_, { parent: this, ...(snapshot ? { dependsOn: [snapshot] } : {}) });
      this.published[catalog.name] = path;
    }
  }

  /** A snapshot, owned by this stack, of a golden VM named in the stack file. */
  private snapshotStackGoldenVm({ stack, manifest }: GoldenImageArgs, snapshotName: string): pulumi.CustomResource {
    const mcs = stack.mcs!;
    const description = `rebake ${manifest.recipe.name} ${manifest.recipe.version} build ${manifest.buildId} (recipe ${manifest.recipe.hash.slice(0, 12)})`;
    let snapshot: pulumi.CustomResource;
    if (stack.hypervisor.kind === "vsphere") {
      snapshot = new VirtualMachineSnapshot("snapshot", { virtualMachineUuid: mcs.goldenVm!.uuid, snapshotName, description, memory: false, quiesce: false }, { parent: this });
    } else if (stack.hypervisor.kind === "xenorchestra") {
      snapshot = new XoSnapshot("snapshot", { url: stack.hypervisor.url, tokenRef: stack.hypervisor.token, vmUuid: mcs.goldenVm!.uuid, snapshotName }, { parent: this });
    } else {
      throw new GoldenImageArgsError([`MCS needs a vsphere or xenorchestra hypervisor, ${stack.file} has ${stack.hypervisor.kind}`]);
    }
    return snapshot;
  }
}
