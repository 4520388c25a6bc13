/**
 * The vSphere provider's VirtualMachineSnapshot, declared by its type token because
 * `@pulumi/vsphere` is not in the registry here; the engine installs the provider plugin at
 * deploy time, exactly as the generated SDK would have it.
 */
import * as pulumi from "@pulumi/pulumi";

export const VSPHERE_SNAPSHOT_TYPE = "vsphere:index/virtualMachineSnapshot:VirtualMachineSnapshot";

export interface VirtualMachineSnapshotArgs {
  readonly virtualMachineUuid: pulumi.Input<string>;
  readonly snapshotName: pulumi.Input<string>;
  readonly description: pulumi.Input<string>;
  /** MCS wants the powered-off state, not memory. */
  readonly memory: pulumi.Input<boolean>;
  readonly quiesce: pulumi.Input<boolean>;
  readonly consolidate?: pulumi.Input<boolean>;
  readonly removeChildren?: pulumi.Input<boolean>;
}

export class VirtualMachineSnapshot extends pulumi.CustomResource {
  declare readonly snapshotName: pulumi.Output<string>;
  declare readonly virtualMachineUuid: pulumi.Output<string>;

  constructor(name: string, args: VirtualMachineSnapshotArgs, opts?: pulumi.CustomResourceOptions) {
    super(VSPHERE_SNAPSHOT_TYPE, name, { ...args, snapshotName: args.snapshotName, virtualMachineUuid: args.virtualMachineUuid }, opts);
  }
}
