/**
 * The path Citrix MCS uses for a snapshot of a master VM, as Publish-ProvMasterVMImage
 * -MasterImageVM and the CVAD REST MasterImagePath take it (citrix/delivery-controller-sdk
 * docs/MachineCreation/Publish-ProvMasterVMImage.md: XDHyp:\HostingUnits\<unit>\<path>\<vm>.vm\<snapshot>.snapshot).
 * The <path> and the snapshot chain follow Citrix's terraform provider, which builds the same
 * path before looking the image up (citrix/terraform-provider-citrix
 * internal/daas/machine_catalog/machine_catalog_mcs_pvs_utils.go getOnPremImage): one
 * `<pool>.resourcepool` element per vSphere resource pool between the hosting unit's root and the
 * VM, then `<vm>.vm`, then one `<snapshot>.snapshot` element per snapshot from the root of the
 * VM's snapshot tree down to the one MCS uses ("snapshot-1/snapshot-2/snapshot-3" becomes
 * `snapshot-1.snapshot\snapshot-2.snapshot\snapshot-3.snapshot`). A snapshot taken after others
 * is their child, so its path is the whole chain, never just its own name.
 *
 * vSphere VM folders ("VMs and Templates") are not path elements. Citrix's XDHyp tree for vCenter
 * follows the compute hierarchy (datacenter, cluster or host, resource pool), in `Name.type`
 * elements: Search-HypVirtualMachineInventory reports a vCenter VM's RelativePath as
 * `/DC-East.datacenter/Production.cluster/WEB-01.vm`, with no folder element
 * (citrix/citrix-mcs-sdk-samples VMware/Inventory Search/Search VM Inventory/README.md), and
 * Citrix's own vCenter master image example is `XDHyp:\HostingUnits\MyNetwork\MyVM.vm\MySnapshot.snapshot`
 * (same repo, VMware/ProvScheme/Update Master Image/Update-MasterImage.ps1). In Citrix's samples a
 * VM folder reaches MCS as the FolderId custom property of the provisioning scheme, the vSphere
 * folder provisioned machines go to (same repo, VMware/ProvScheme/Folder ID/README.md: `group-v000`),
 * not as part of the image path. The `.folder` items in Citrix's published paths are cloud
 * containers (`image.folder`, `ServiceOffering.folder`: same repo, Azure/ProvScheme/Backup VM
 * Sizes/Create-WithBackupVmConfiguration.ps1). No Citrix material found shows a `.folder` element
 * in a vCenter path, so rebake writes none, and the vSphere driver does not read the VM's folder.
 */

/** Characters the XDHyp provider cannot take inside one path element. */
const XDHYP_FORBIDDEN = /[\\]/;

export class McsPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Where the snapshot sits, as the hypervisor driver reports it after taking it. */
export interface McsSnapshotPlacement {
  /**
   * vSphere resource pools holding the VM, outermost first, below the cluster's or host's own
   * root pool (which the hosting unit already is). Empty for a VM in the root pool and on XenServer.
   */
  readonly resourcePools: readonly string[];
  /** Snapshot names from the root of the VM's snapshot tree to this snapshot (this one last). */
  readonly snapshotChain: readonly string[];
}

/** `XDHyp:\HostingUnits\<unit>\[<pool>.resourcepool\...]<vm>.vm\<root>.snapshot\...\<this>.snapshot` */
export function mcsSnapshotPath(hostingUnit: string, vmName: string, placement: McsSnapshotPlacement): string {
  if (placement.snapshotChain.length === 0) throw new McsPathError(`an MCS snapshot path needs the snapshot: the snapshot chain of VM ${vmName} is empty`);
  const elements: [string, string][] = [
    ["hosting unit", hostingUnit],
    ...placement.resourcePools.map((pool): [string, string] => ["resource pool", pool]),
    ["VM name", vmName],
    ...placement.snapshotChain.map((snapshot): [string, string] => ["snapshot name", snapshot]),
  ];
  for (const [what, value] of elements) {
    if (!value.trim()) throw new McsPathError(`the ${what} of an MCS snapshot path must not be empty`);
    if (XDHYP_FORBIDDEN.test(value)) throw new McsPathError(`the ${what} of an MCS snapshot path cannot contain '\\', got: '${value}'`);
  }
  return [
    "XDHyp:",
    "HostingUnits",
    hostingUnit,
    ...placement.resourcePools.map((pool) => `${pool}.resourcepool`),
    `${vmName}.vm`,
    ...placement.snapshotChain.map((snapshot) => `${snapshot}.snapshot`),
  ].join("\\");
}
