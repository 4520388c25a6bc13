/**
 * Chooses the hypervisor driver a stack (or --driver) names, with that driver's settings.
 * QEMU needs only a runtime directory; vSphere and Xen Orchestra need connection settings whose
 * credentials are named environment variables, read from `deps.env`. The guest channel the
 * settings name is wired in here, and checked (with its credential) before any VM exists.
 */
import path from "node:path";
import type { HypervisorDriver } from "./driver.ts";
import { QemuDriver } from "./qemu/qemu-driver.ts";
import { VsphereDriver } from "./vsphere/vsphere-driver.ts";
import type { VsphereSettings } from "./vsphere/settings.ts";
import { XoDriver } from "./xenorchestra/xo-driver.ts";
import type { XoSettings } from "./xenorchestra/settings.ts";
import type { Exec } from "../util/exec.ts";
import { createGuestChannel, guestChannelProblems, GuestChannelSettingsError, type GuestChannelSettings } from "../guest/guest-channel-settings.ts";
import { guestLoginEnvironment } from "./vsphere/settings.ts";
import { readVmInfo } from "../guest/vmware-tools/vm-info.ts";

export const HYPERVISOR_NAMES = ["qemu", "vsphere", "xenorchestra"] as const;
export type HypervisorName = (typeof HYPERVISOR_NAMES)[number];

/** How build steps reach the guest; each driver has a default (qga, VMware Tools, none for XO). */
export interface GuestSettings {
  readonly guest?: GuestChannelSettings;
}

export interface DriverSettingsByName {
  /** QEMU runs locally: nothing to connect to; its guest channel is always the guest agent. */
  readonly qemu: GuestSettings;
  /** @default guest: VMware Tools guest operations with `guestCredentials` */
  readonly vsphere: VsphereSettings & GuestSettings;
  /** XO has no guest operations: `guest` (ssh or winrm) is needed to run steps. */
  readonly xenorchestra: XoSettings & GuestSettings;
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
  /** The rebake cache dir: QEMU keeps its KVM probe answer there. @default not kept across runs */
  readonly cacheDir?: string;
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
  const guest = (settings as GuestSettings).guest;
  if (guest) {
    const problems = guestChannelProblems(guest, deps.env);
    if (problems.length > 0) throw new GuestChannelSettingsError(`invalid guest channel settings for the ${name} driver: ${problems.join("; ")}`);
  }
  const channelDeps = { runtimeDir: deps.runtimeDir, env: deps.env, ...(deps.exec ? { exec: deps.exec } : {}) };
  switch (name) {
    case "qemu":
      if (guest && guest.kind !== "qga") throw new GuestChannelSettingsError(`the qemu driver reaches the guest through the QEMU guest agent only, got guest.kind ${guest.kind}: remove guest or set kind: qga`);
      return new QemuDriver({ runtimeDir: deps.runtimeDir, env: deps.env, log: deps.log, ...(deps.exec ? { exec: deps.exec } : {}), ...(deps.cacheDir ? { accelCacheDir: deps.cacheDir } : {}) });
    case "vsphere": {
      const s = settings as DriverSettingsByName["vsphere"];
      const channel = s.guest;
      return new VsphereDriver({
        settings: s,
        exportDir,
        env: deps.env,
        log: deps.log,
        ...(deps.exec ? { exec: deps.exec } : {}),
        ...(channel
          ? {
              guestChannel: (vm, govc) =>
                createGuestChannel(channel, {
                  ...channelDeps,
                  // vCenter reports the guest's IP through VMware Tools.
                  address: async () => (await readVmInfo(govc, vm.id)).ipAddress,
                  vmwareTools: { govc, vm: vm.id, login: () => guestLoginEnvironment(s, deps.env) },
                }),
            }
          : {}),
      });
    }
    case "xenorchestra": {
      const s = settings as DriverSettingsByName["xenorchestra"];
      const channel = s.guest;
      if (channel && channel.kind !== "ssh" && channel.kind !== "winrm") throw new GuestChannelSettingsError(`Xen Orchestra has no guest operations, got guest.kind ${channel.kind}: use kind ssh or winrm`);
      return new XoDriver({
        settings: s,
        exportDir,
        env: deps.env,
        log: deps.log,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        ...(channel ? { guestChannel: (_vm, address) => createGuestChannel(channel, { ...channelDeps, address }) } : {}),
      });
    }
    default:
      throw new UnknownHypervisorError(name);
  }
}
