/**
 * The little of `govc vm.info -json` the driver reads: power state, VMware Tools and the guest IP.
 * govc 0.24 prints Go field names (Runtime, Guest); newer releases print camelCase; both are read.
 */
import type { GovcCall, GovcRunner } from "./govc-runner.ts";

export interface VmInfo {
  readonly powerState: "poweredOn" | "poweredOff" | "suspended";
  /** VMware Tools answers inside the guest. */
  readonly toolsRunning: boolean;
  readonly ipAddress?: string;
  readonly template: boolean;
}

const TOOLS_RUNNING = "guestToolsRunning";

export class VmNotFoundError extends Error {
  constructor(readonly vmPath: string) {
    super(`VM ${vmPath} does not exist in vSphere`);
    this.name = new.target.name;
  }
}

export async function readVmInfo(govc: GovcRunner, vmPath: string, call: GovcCall = {}): Promise<VmInfo> {
  const result = await govc.run(["vm.info", "-json", vmPath], call);
  const parsed = JSON.parse(result.stdout || "{}") as Record<string, unknown>;
  const vms = field(parsed, "VirtualMachines");
  const vm = Array.isArray(vms) ? (vms[0] as Record<string, unknown> | undefined) : undefined;
  if (!vm) throw new VmNotFoundError(vmPath);
  const runtime = (field(vm, "Runtime") ?? {}) as Record<string, unknown>;
  const guest = (field(vm, "Guest") ?? {}) as Record<string, unknown>;
  const config = (field(vm, "Config") ?? {}) as Record<string, unknown>;
  const ip = field(guest, "IpAddress");
  return {
    powerState: (field(runtime, "PowerState") as VmInfo["powerState"] | undefined) ?? "poweredOff",
    toolsRunning: field(guest, "ToolsRunningStatus") === TOOLS_RUNNING,
    ...(typeof ip === "string" && ip !== "" ? { ipAddress: ip } : {}),
    template: field(config, "Template") === true,
  };
}

function field(object: Record<string, unknown>, goName: string): unknown {
  return object[goName] ?? object[goName.charAt(0).toLowerCase() + goName.slice(1)];
}
