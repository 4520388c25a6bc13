/**
 * What each PVS site needs so its target devices find a PVS server (seed 002):
 * - `pxe`: PVS servers run PXE/TFTP; DHCP option 66 names the TFTP server (one DNS name with an A
 *   record per server: round robin, not load balancing, so a stopped server still gets answers)
 *   and option 67 the bootstrap file. Printed as a checklist, since DHCP and DNS belong to others.
 * - `iso`, `bdm`: no PXE/TFTP/DHCP/DNS changes; the bootstrap carries the list of PVS login
 *   servers (Set-PvsServerBootstrap), and the boot ISO (iso) is attached to every target template,
 *   first in the boot order; bdm puts the same bootstrap on a small partition instead.
 */
import type { PvsSite, SiteBootConfig } from "../stacks/model.ts";

/** The PVS stream service's login port. */
export const DEFAULT_LOGIN_PORT = 6910;
/** A bootstrap holds at most four login servers. */
export const MAX_BOOTSTRAP_SERVERS = 4;
/** The bootstrap PVS's TFTP service serves, by firmware. */
export const BOOTFILES = { bios: "ARDBP32.BIN", uefi: "pvsnbpx64.efi" } as const;
/** The bootstrap file Set-PvsServerBootstrap edits. */
export const BOOTSTRAP_NAME = "ARDBP32.BIN";

export interface DnsRecord {
  readonly name: string;
  readonly type: "A";
  readonly value: string;
}

export interface PxePlan {
  readonly site: string;
  readonly method: "pxe";
  readonly tftpServers: readonly { readonly host: string; readonly ip: string }[];
  readonly dhcp: { readonly option66: string; readonly option67: string };
  readonly dns: readonly DnsRecord[];
  readonly checklist: readonly string[];
}

export interface BootstrapPlan {
  readonly site: string;
  readonly method: "iso" | "bdm";
  readonly bootstrap: { readonly name: string; readonly servers: readonly { readonly host: string; readonly ip: string; readonly port: number }[] };
  /** iso: the ISO to attach to the target templates. */
  readonly iso?: string;
  readonly checklist: readonly string[];
}

export type SiteBootPlan = PxePlan | BootstrapPlan;

export class BootConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`the boot settings cannot be used: ${problems.join("; ")}`);
    this.name = new.target.name;
  }
}

/** Every problem with one site's boot settings; empty when usable. */
export function checkBootConfig(site: string, boot: SiteBootConfig, file: string): string[] {
  const problems: string[] = [];
  const where = `${file}: site ${site} boot`;
  if (boot.method === "pxe") {
    if (boot.servers.length > 1 && !boot.tftpName) problems.push(`${where}: ${boot.servers.length} PXE servers need tftpName, the DNS name that resolves to all of them (DHCP option 66 holds one name)`);
    if (boot.isoPath) problems.push(`${where}: isoPath is for method iso, not pxe; remove it or change the method`);
  } else {
    if (boot.servers.length > MAX_BOOTSTRAP_SERVERS) problems.push(`${where}: a bootstrap holds at most ${MAX_BOOTSTRAP_SERVERS} login servers, ${boot.servers.length} are listed; keep the ${MAX_BOOTSTRAP_SERVERS} the site's devices should use`);
    if (boot.method === "iso" && !boot.isoPath) problems.push(`${where}: method iso needs isoPath, the boot ISO the hypervisor attaches to the target templates (e.g. "[datastore1] iso/pvs-boot.iso")`);
    if (boot.method === "bdm" && boot.isoPath) problems.push(`${where}: isoPath is for method iso; bdm boots from a partition on the device's disk`);
    if (boot.tftpName || boot.bootfile) problems.push(`${where}: tftpName and bootfile are DHCP settings of method pxe; ${boot.method} needs no DHCP or DNS changes`);
  }
  return problems;
}

export function planSiteBoot(site: PvsSite, boot: SiteBootConfig): SiteBootPlan {
  const firmware = boot.firmware ?? "uefi";
  if (boot.method === "pxe") {
    const option66 = boot.tftpName ?? boot.servers[0]!.ip;
    const option67 = boot.bootfile ?? BOOTFILES[firmware];
    const dns = boot.tftpName ? boot.servers.map((s): DnsRecord => ({ name: boot.tftpName!, type: "A", value: s.ip })) : [];
    const checklist = [
      `Run the PVS Configuration Wizard on ${boot.servers.map((s) => s.host).join(", ")} with "use the Provisioning Services TFTP service" (PXE/TFTP on each)`,
      ...dns.map((r) => `DNS: add ${r.type} record ${r.name} -> ${r.value}`),
      `DHCP scope of site ${site.name}: option 66 (boot server host name) = ${option66}`,
      `DHCP scope of site ${site.name}: option 67 (bootfile name) = ${option67} (${firmware} devices)`,
      `Target templates of collection ${site.collection}: network (PXE) first in the boot order`,
    ];
    return { site: site.name, method: "pxe", tftpServers: boot.servers.map(({ host, ip }) => ({ host, ip })), dhcp: { option66, option67 }, dns, checklist };
  }
  const servers = boot.servers.map(({ host, ip, port }) => ({ host, ip, port: port ?? DEFAULT_LOGIN_PORT }));
  const list = servers.map((s) => `${s.ip}:${s.port}`).join(", ");
  const checklist =
    boot.method === "iso"
      ? [
          `Set the bootstrap login servers (${list}) with the generated Set-PvsServerBootstrap script`,
          `Create the boot ISO with Boot Device Manager for ${list} and put it where every host sees it: ${boot.isoPath}`,
          `Attach ${boot.isoPath} to every target template of collection ${site.collection}, CD-ROM first in the boot order`,
          "Remove PXE/TFTP from the PVS servers and the DHCP options 66/67 if nothing else uses them",
        ]
      : [
          `Set the bootstrap login servers (${list}) with the generated Set-PvsServerBootstrap script`,
          `Burn the bootstrap with Boot Device Manager to an 8 MB active partition on a small disk for ${list}`,
          `Copy that disk to every target template of collection ${site.collection} as the first disk (position 0:0)`,
        ];
  return { site: site.name, method: boot.method, bootstrap: { name: BOOTSTRAP_NAME, servers }, ...(boot.method === "iso" ? { iso: boot.isoPath! } : {}), checklist };
}
