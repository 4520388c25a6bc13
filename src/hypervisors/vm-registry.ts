/**
 * The VMs a remote-hypervisor driver created in this run, with the state it keeps per VM (media
 * devices, guest channel): the vSphere and Xen Orchestra drivers keep the same books.
 */
import type { GuestChannel } from "../guest/channel.ts";
import type { VmHandle } from "./driver.ts";

export interface TrackedVm {
  readonly handle: VmHandle;
  channel?: GuestChannel;
}

export class VmRegistry<S extends TrackedVm> {
  private readonly vms = new Map<string, S>();

  /** `unknownVm` makes the driver's own error for a VM it does not know. */
  constructor(private readonly unknownVm: (message: string) => Error) {}

  add(state: S): void {
    this.vms.set(state.handle.id, state);
  }

  /** The state of a VM this driver created and has not let go of. */
  get(vm: VmHandle): S {
    const state = this.vms.get(vm.id);
    if (!state) throw this.unknownVm(`unknown VM ${vm.name} (${vm.id}): it was destroyed or created by another driver`);
    return state;
  }

  /**
   * Closes the VM's guest channel and forgets the VM; returns what was kept for it, or undefined
   * for one it does not know (already forgotten).
   */
  async forget(vm: VmHandle): Promise<S | undefined> {
    const state = this.vms.get(vm.id);
    await state?.channel?.close();
    this.vms.delete(vm.id);
    return state;
  }
}
