/**
 * Attaches a site's PVS boot ISO to a target VM through the hypervisor driver, as the first boot
 * device ("install" media boot first), for method iso.
 */
import type { HypervisorDriver, VmHandle } from "../hypervisors/driver.ts";
import type { BootstrapPlan } from "./boot-plan.ts";

export class NoBootIsoError extends Error {
  constructor(site: string, method: string) {
    super(`site ${site} boots with ${method}, which has no boot ISO to attach; set boot.method: iso and boot.isoPath in the stack file`);
    this.name = new.target.name;
  }
}

export async function attachBootIso(driver: HypervisorDriver, vm: VmHandle, plan: BootstrapPlan): Promise<void> {
  if (!plan.iso) throw new NoBootIsoError(plan.site, plan.method);
  await driver.attachMedia(vm, [{ path: plan.iso, role: "install" }]);
}
