/**
 * Which guest channel a stack uses, as settings a stack file or flags can carry, and the one
 * function that turns them into a GuestChannel. Secrets appear only as environment variable names
 * (stacks are committed); their values are read when a connection needs them and never logged.
 *
 *   guest: { kind: ssh, user: builder, keyPath: /secrets/build_ed25519 }       # host: the VM's IP
 *   guest: { kind: winrm, user: Administrator, passwordEnv: REBAKE_WINRM_PASSWORD, https: true, caPath: lab-ca.pem }
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { WINRM_PORTS } from "../stacks/model.ts";
import type { Exec } from "../util/exec.ts";
import type { GuestChannel } from "./channel.ts";
import type { GuestOs } from "./qga/guest-command.ts";
import { QgaChannel } from "./qga/qga-channel.ts";
import { SshChannel } from "./ssh/ssh-channel.ts";
import { VmwareToolsChannel, type VmwareToolsChannelOptions } from "./vmware-tools/vmware-tools-channel.ts";
import { WinrmChannel } from "./winrm/winrm-channel.ts";

export const GUEST_CHANNEL_KINDS = ["qga", "vmware-tools", "ssh", "winrm"] as const;
/** The file in the build's runtime dir where the SSH channel pins host keys. */
export const SSH_KNOWN_HOSTS_FILE = "ssh_known_hosts";

export type GuestChannelSettings =
  /** The QEMU guest agent (the QEMU driver's default). */
  | { readonly kind: "qga"; readonly os?: GuestOs }
  /** VMware Tools guest operations (the vSphere driver's default); the guest account comes from the vSphere settings. */
  | { readonly kind: "vmware-tools"; readonly os?: GuestOs }
  | SshGuestSettings
  | WinrmGuestSettings;

export interface SshGuestSettings {
  readonly kind: "ssh";
  /** @default the VM's address as the hypervisor reports it */
  readonly host?: string;
  /** @default 22 */
  readonly port?: number;
  readonly user: string;
  /** Private key file; password authentication is not supported. */
  readonly keyPath: string;
  /** "windows" for a Windows OpenSSH server (powershell and cmd steps). @default "linux" */
  readonly os?: GuestOs;
}

export interface WinrmGuestSettings {
  readonly kind: "winrm";
  /** The full endpoint. @default http(s)://<the VM's address>:<port>/wsman */
  readonly url?: string;
  /** @default false (http with AllowUnencrypted, lab images only) */
  readonly https?: boolean;
  /** @default WINRM_PORTS[http|https] */
  readonly port?: number;
  readonly user: string;
  /** Environment variable holding the password (Basic authentication). */
  readonly passwordEnv: string;
  /** PEM file with the certificate to trust for a self-signed https listener. */
  readonly caPath?: string;
}

export interface GuestChannelDeps {
  /** Per-build scratch space: SSH's known_hosts lives here. */
  readonly runtimeDir: string;
  /** Holds the variables the settings name. */
  readonly env: NodeJS.ProcessEnv;
  /** The VM's address as the hypervisor reports it (undefined until it has one). */
  readonly address?: () => Promise<string | undefined>;
  /** The QEMU driver's agent socket, for kind qga. */
  readonly qgaSocketPath?: string;
  /** The vSphere driver's govc and VM, for kind vmware-tools. */
  readonly vmwareTools?: Omit<VmwareToolsChannelOptions, "guestOs">;
  /** Runs ssh and scp. @default createExec() */
  readonly exec?: Exec;
}

export class GuestChannelSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Every problem with the settings (and the environment they name), as sentences; empty when usable. */
export function guestChannelProblems(settings: GuestChannelSettings, env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const loose = settings as unknown as Record<string, unknown>;
  if (!GUEST_CHANNEL_KINDS.includes(settings.kind)) return [`guest.kind must be one of ${GUEST_CHANNEL_KINDS.join(", ")}, got: '${String(loose.kind)}'`];
  if (settings.kind === "ssh") {
    if ("password" in loose || "passwordEnv" in loose) problems.push("guest.passwordEnv: SSH password authentication is not supported; set guest.keyPath to a private key the guest's authorized_keys accepts");
    if (!settings.user?.trim()) problems.push("guest.user must name the SSH account");
    if (!settings.keyPath?.trim()) problems.push("guest.keyPath must name a private key file");
    if (settings.port !== undefined && !validPort(settings.port)) problems.push(`guest.port must be 1-65535, got: ${settings.port}`);
  }
  if (settings.kind === "winrm") {
    if ("password" in loose) problems.push("guest.password: put the password in an environment variable and name it in guest.passwordEnv (stacks are committed)");
    if (!settings.user?.trim()) problems.push("guest.user must name the Windows account");
    if (!settings.passwordEnv?.trim()) problems.push("guest.passwordEnv must name the environment variable holding the WinRM password");
    else if (!env[settings.passwordEnv]) problems.push(`environment variable ${settings.passwordEnv} (WinRM password for ${settings.user}) is not set`);
    if (settings.port !== undefined && !validPort(settings.port)) problems.push(`guest.port must be 1-65535, got: ${settings.port}`);
    if (settings.url !== undefined && !/^https?:\/\/[^/]+\/wsman$/.test(settings.url)) problems.push(`guest.url must look like http(s)://host:port/wsman, got: '${settings.url}'`);
  }
  return problems;
}

export function createGuestChannel(settings: GuestChannelSettings, deps: GuestChannelDeps): GuestChannel {
  const problems = guestChannelProblems(settings, deps.env);
  if (problems.length > 0) throw new GuestChannelSettingsError(`invalid guest channel settings: ${problems.join("; ")}`);
  switch (settings.kind) {
    case "qga":
      if (!deps.qgaSocketPath) throw new GuestChannelSettingsError("guest.kind qga needs the QEMU guest agent socket: use it with the qemu driver");
      return new QgaChannel({ socketPath: deps.qgaSocketPath, ...(settings.os ? { guestOs: settings.os } : {}) });
    case "vmware-tools":
      if (!deps.vmwareTools) throw new GuestChannelSettingsError("guest.kind vmware-tools needs govc and a VM: use it with the vsphere driver");
      return new VmwareToolsChannel({ ...deps.vmwareTools, ...(settings.os ? { guestOs: settings.os } : {}) });
    case "ssh":
      return new SshChannel({
        host: settings.host ?? required(deps.address, "ssh"),
        ...(settings.port !== undefined ? { port: settings.port } : {}),
        user: settings.user,
        keyPath: settings.keyPath,
        knownHostsPath: path.join(deps.runtimeDir, SSH_KNOWN_HOSTS_FILE),
        ...(settings.os ? { os: settings.os } : {}),
        ...(deps.exec ? { exec: deps.exec } : {}),
      });
    case "winrm": {
      const passwordEnv = settings.passwordEnv;
      return new WinrmChannel({
        url: settings.url ?? winrmUrlFrom(required(deps.address, "winrm"), settings),
        user: settings.user,
        password: () => {
          const password = deps.env[passwordEnv];
          if (!password) throw new GuestChannelSettingsError(`environment variable ${passwordEnv} (WinRM password for ${settings.user}) is not set`);
          return password;
        },
        ...(settings.caPath ? { ca: readFileSync(settings.caPath, "utf8") } : {}),
      });
    }
  }
}

/** The endpoint built from the VM's address once it has one (IPv6 in brackets). */
function winrmUrlFrom(address: () => Promise<string | undefined>, settings: WinrmGuestSettings): () => Promise<string | undefined> {
  const scheme = settings.https ? "https" : "http";
  const port = settings.port ?? WINRM_PORTS[scheme];
  return async () => {
    const host = await address();
    if (!host) return undefined;
    return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}/wsman`;
  };
}

function required(address: GuestChannelDeps["address"], kind: string): () => Promise<string | undefined> {
  if (!address) throw new GuestChannelSettingsError(`guest.kind ${kind} without guest.host/url needs the VM's address from the hypervisor driver, and this driver gives none: set it in the stack`);
  return address;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
