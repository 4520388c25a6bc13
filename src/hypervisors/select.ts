/**
 * Chooses the hypervisor driver a stack (or --driver) names, with that driver's settings.
 * QEMU needs only a runtime directory; vSphere and Xen Orchestra need connection settings whose
 * credentials are named environment variables, read from `deps.env`.
 */
import path from "node:path";
import type { HypervisorDriver } from "./driver.ts";
import { QemuDriver } from "./qemu/qemu-driver.ts";
import { VsphereDriver } from "./vsphere/vsphere-driver.ts";
import type { VsphereSettings } from "./vsphere/settings.ts";
import { XoDriver } from "./xenorchestra/xo-driver.ts";
import type { XoSettings } from "./xenorchestra/settings.ts";
import type { Exec } from "../util/exec.ts";

export const HYPERVISOR_NAMES = ["qemu", "vsphere", "xenorchestra"] as const;
export type HypervisorName = (typeof HYPERVISOR_NAMES)[number];

export interface DriverSettingsByName {
  /** QEMU runs locally: nothing to connect to. */
  readonly qemu: Record<string, never>;
  readonly vsphere: VsphereSettings;
  readonly xenorchestra: XoSettings;
}

export interface DriverDeps {
  /** Per-build scratch space: QEMU's sockets, exported disks. Keep it short (socket paths). */
  readonly runtimeDir: string;
  /** Holds the credential variables the settings name. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  /** Runs qemu-img and govc. @default createExec() */
  readonly exec?: Exec;
  /** Xen Orchestra's HTTP client. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Subdirectory of the runtime dir where remote drivers put exported disks. */
export const EXPORT_SUBDIR = "export";

export class UnknownHypervisorError extends Error {
  constructor(readonly value: string) {
    super(`hypervisor must be one of ${HYPERVISOR_NAMES.join(", ")}, got: '${value}'`);
    this.name = new.target.name;
  }
}

export function isHypervisorName(value: string): value is HypervisorName {
  return (HYPERVISOR_NAMES as readonly string[]).includes(value);
}

export function createDriver<N extends HypervisorName>(name: N, settings: DriverSettingsByName[N], deps: DriverDeps): HypervisorDriver {
  const exportDir = path.join(deps.runtimeDir, EXPORT_SUBDIR);
  switch (name) {
    case "qemu":
      return new QemuDriver({ runtimeDir: deps.runtimeDir, env: deps.env, log: deps.log, ...(deps.exec ? { exec: deps.exec } : {}) });
    case "vsphere":
      return new VsphereDriver({ settings: settings as VsphereSettings, exportDir, env: deps.env, log: deps.log, ...(deps.exec ? { exec: deps.exec } : {}) });
    case "xenorchestra":
      return new XoDriver({ settings: settings as XoSettings, exportDir, env: deps.env, log: deps.log, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
    default:
      throw new UnknownHypervisorError(name);
  }
}
