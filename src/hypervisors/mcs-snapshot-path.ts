/**
 * The path Citrix MCS uses for a snapshot of a master VM, as Publish-ProvMasterVMImage
 * -MasterImageVM and the CVAD REST MasterImagePath expect it. The build manifest records it so
 * publish can hand it to the catalog.
 */

/** Characters the XDHyp provider cannot take inside one path element. */
const XDHYP_FORBIDDEN = /[\\]/;

export class McsPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `XDHyp:\HostingUnits\<unit>\<vm>.vm\<snapshot>.snapshot` */
export function mcsSnapshotPath(hostingUnit: string, vmName: string, snapshotName: string): string {
  for (const [what, value] of [["hosting unit", hostingUnit], ["VM name", vmName], ["snapshot name", snapshotName]] as const) {
    if (!value.trim()) throw new McsPathError(`the ${what} of an MCS snapshot path must not be empty`);
    if (XDHYP_FORBIDDEN.test(value)) throw new McsPathError(`the ${what} of an MCS snapshot path cannot contain '\\', got: '${value}'`);
  }
  return `XDHyp:\\HostingUnits\\${hostingUnit}\\${vmName}.vm\\${snapshotName}.snapshot`;
}

