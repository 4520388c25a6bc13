/**
 * The typed configuration of one Pulumi stack (`stacks/Pulumi.<stack>.yaml`): which image version
 * the environment runs and where it is published. Everything is environment-specific here; the
 * recipe stays environment-neutral.
 */

/** `env:NAME` or `pulumi:key`: a credential is never written into a stack file. */
export type SecretRef = string;

export type PublishTarget = "mcs" | "pvs";

/** The image version an environment runs. */
export interface ImagePin {
  /** Recipe name (`metadata.name`). */
  readonly recipe: string;
  /** The pinned recipe version; promote and rollback edit this value. */
  readonly version: string;
  /**
   * The build manifest of that version, relative to the repository root.
   * @default `out/<recipe>/<version>/manifest.json` (MANIFEST_PATH_TEMPLATE)
   */
  readonly manifest: string;
}

export interface QemuConnection {
  readonly kind: "qemu";
  /** How build steps reach the guest. @default { kind: "qga" } */
  readonly guest?: StackGuestChannel;
}

export interface VsphereConnection {
  readonly kind: "vsphere";
  /** vCenter host name. */
  readonly server: string;
  readonly datacenter: string;
  readonly username: string;
  readonly password: SecretRef;
  /** @default false */
  readonly insecure: boolean;
  // Where builds run (issue 4): needed by `rebake build`, not by publish.
  /** The SDK endpoint. @default `https://<server>/sdk` */
  readonly url?: string;
  /** Datastore for the golden VM and the uploaded ISOs (required to build). */
  readonly datastore?: string;
  /** Port group of the VM's NIC (required to build). */
  readonly network?: string;
  /** Resource pool (or `<cluster>/Resources`) inventory path. @default the datacenter's default pool */
  readonly resourcePool?: string;
  /** VM folder. @default the datacenter's vm folder */
  readonly folder?: string;
  /** Datastore folder of the ISOs. @default "rebake-iso" */
  readonly isoFolder?: string;
  /** vSphere guest id. @default "windows9Server64Guest" */
  readonly guestId?: string;
  /** The Citrix hosting unit on this vCenter: the build records the MCS snapshot path under it. */
  readonly hostingUnit?: string;
  /** Turn the golden VM into a template after its MCS snapshot. @default false */
  readonly markAsTemplate?: boolean;
  /** How build steps reach the guest. @default { kind: "vmware-tools" } (needs user and password) */
  readonly guest?: StackGuestChannel;
}

export interface XenOrchestraConnection {
  readonly kind: "xenorchestra";
  /** `https://xo.example` */
  readonly url: string;
  readonly token: SecretRef;
  /** @default false */
  readonly insecure: boolean;
  // Where builds run (issue 4): needed by `rebake build`, not by publish.
  /** Pool UUID the golden VM is created in (required to build). */
  readonly pool?: string;
  /** Template UUID the VM is cloned from: it decides the disk layout and the NIC's network (required to build). */
  readonly template?: string;
  /** ISO SR UUID the install and answer ISOs are uploaded to (required to build). */
  readonly isoSr?: string;
  /** The Citrix hosting unit on this pool: the build records the MCS snapshot path under it. */
  readonly hostingUnit?: string;
  /** How build steps reach the guest: XO has no guest operations (required to build). */
  readonly guest?: StackGuestChannel;
}

/**
 * A guest channel as a stack writes it (issue 4). Passwords are secret references like every
 * credential in a stack; `rebake build` resolves them before any VM exists.
 */
export type StackGuestChannel =
  | { readonly kind: "qga"; readonly os?: "linux" | "windows" }
  /** VMware Tools guest operations log in with this guest account. */
  | { readonly kind: "vmware-tools"; readonly os?: "linux" | "windows"; readonly user: string; readonly password: SecretRef }
  | { readonly kind: "ssh"; readonly user: string; readonly keyPath: string; readonly host?: string; readonly port?: number; readonly os?: "linux" | "windows" }
  | { readonly kind: "winrm"; readonly user: string; readonly password: SecretRef; readonly url?: string; readonly https?: boolean; readonly port?: number; readonly caPath?: string };

export type HypervisorConnection = QemuConnection | VsphereConnection | XenOrchestraConnection;

export type RebootStrategy = "none" | "rolling" | "immediate";

export interface McsCatalog {
  /** Display name, also the Pulumi resource name. */
  readonly name: string;
  /** The CVAD machine catalog id (GUID). */
  readonly id: string;
  /** The hosting unit the catalog's machines live on (`XDHyp:\HostingUnits\<unit>`). */
  readonly hostingUnit: string;
  /**
   * How machines pick up the new image: "rolling" reboots them over `rebootDurationMinutes`,
   * "immediate" reboots them all now, "none" leaves the update to each machine's next shutdown.
   * @default "rolling"
   */
  readonly reboot: RebootStrategy;
  /** Minutes of warning users get before a reboot. @default 15 */
  readonly rebootWarningMinutes: number;
  /** Minutes a "rolling" reboot cycle spreads the reboots over. @default DEFAULT_ROLLING_REBOOT_MINUTES */
  readonly rebootDurationMinutes: number;
}

export type McsVia = "rest" | "powershell";

export interface McsConfig {
  /**
   * A golden VM rebake did not build, to snapshot at publish, by name (for the image path) and
   * hypervisor UUID. Images rebake built carry their golden VM and snapshot in the manifest.
   */
  readonly goldenVm?: {
    readonly name: string;
    readonly uuid: string;
    /** vSphere resource pools holding the VM below the hosting unit's root, outermost first. @default [] */
    readonly resourcePools?: readonly string[];
    /**
     * The VM's snapshot chain now, root first: the snapshot publish takes becomes the child of
     * the last one, and MCS addresses it through the whole chain. @default [] (no snapshots yet)
     */
    readonly snapshots?: readonly string[];
  };
  /**
   * How catalogs are pointed at the image: `rest`, the CVAD REST API (`cvad`); `powershell`,
   * Publish-ProvMasterVMImage through the Citrix PowerShell SDK on a Delivery Controller
   * (`powershell`), for on-premises sites without the REST API. @default "rest"
   */
  readonly via: McsVia;
  /** The CVAD REST endpoint (`https://api.cloud.com` or an on-premises Director/Orchestration URL); with via rest. */
  readonly cvad?: { readonly url: string; readonly customerId: string; readonly siteId: string; readonly token: SecretRef };
  /** The Delivery Controller the SDK talks to (`-AdminAddress`) and where the script runs; with via powershell. */
  readonly powershell?: { readonly adminAddress: string; readonly executor: PowerShellExecutorConfig };
  readonly catalogs: readonly McsCatalog[];
}

/** Where the PVS scripts run. */
export type PvsExecutorConfig = PowerShellExecutorConfig;

export type PvsAccessMode = "maintenance" | "test" | "production";

/**
 * Where Citrix PowerShell scripts run: Windows PowerShell 5.1 (the only PowerShell that loads
 * Citrix's snap-ins) on the PVS server or Delivery Controller over SSH or WinRM, or `local` on a
 * Windows machine (src/pvs/executor.ts).
 */
export type PowerShellExecutorConfig =
  | { readonly kind: "local" }
  | { readonly kind: "ssh"; readonly host: string; readonly user: string; readonly port: number; readonly identityFile?: string }
  /** WS-Management with HTTP Basic authentication (a local account; the listener must allow Basic). */
  | { readonly kind: "winrm"; readonly host: string; readonly user: string; readonly password: SecretRef; readonly https: boolean; readonly port: number; readonly caPath?: string };

export interface PvsStore {
  /** The store name in the PVS farm. */
  readonly name: string;
  /** A filesystem path (local, UNC, a mounted share) or `smb://host[:port]/share/path`. */
  readonly location: string;
  /** For `smb://` stores; absent means guest access. */
  readonly username?: string;
  readonly password?: SecretRef;
}

/** A PVS server devices log in to (the bootstrap list). Added for issue 6 (src/boot/). */
export interface BootServer {
  readonly host: string;
  readonly ip: string;
  /** PVS stream service login port. @default 6910 (src/boot/) */
  readonly port?: number;
}

/** How a site's target devices find a PVS server (seed 002). Added for issue 6 (src/boot/). */
export interface SiteBootConfig {
  /** `pxe`: DHCP 66/67 point at the PVS TFTP servers; `iso`: a boot ISO; `bdm`: a small boot partition. */
  readonly method: "pxe" | "iso" | "bdm";
  /** PXE/TFTP servers (pxe) or the bootstrap's login servers (iso, bdm); at most 4 go in a bootstrap. */
  readonly servers: readonly BootServer[];
  /** @default "uefi" */
  readonly firmware?: "uefi" | "bios";
  /** pxe: the DNS name with one A record per TFTP server (round robin), given as DHCP option 66. */
  readonly tftpName?: string;
  /** pxe: DHCP option 67. @default by firmware: pvsnbpx64.efi or ARDBP32.BIN */
  readonly bootfile?: string;
  /** iso: the boot ISO as the hypervisor names it, attached to the target template. */
  readonly isoPath?: string;
}

export interface PvsSite {
  readonly name: string;
  /**
   * A PVS server of the site. The vDisk is not assigned to it: a disk locator with no single
   * server is served by every server of the site that reaches the store.
   */
  readonly server: string;
  /** The device collection whose devices boot the vDisk. */
  readonly collection: string;
  readonly store: PvsStore;
  readonly boot?: SiteBootConfig;
  /** The site's device manifest (CSV or YAML), relative to the repository root. */
  readonly devices?: string;
}

export interface PvsConfig {
  /** The server the snap-in connects to (`Set-PvsConnection -Server`). */
  readonly server: string;
  /** @default 54321 */
  readonly port: number;
  readonly executor: PvsExecutorConfig;
  /** The access mode this environment gives the published version. */
  readonly accessMode: PvsAccessMode;
  /** Versions a vDisk's chain may hold before it is merged into a new base. @default DEFAULT_MAX_CHAIN (src/pvs/version-script.ts) */
  readonly maxVersionChain?: number;
  readonly sites: readonly PvsSite[];
}

/** One stack file, validated, defaults applied. */
export interface StackConfig {
  /** Stack name: `dev`, `test`, `prod`. */
  readonly stack: string;
  /** The stack file as shown to the user. */
  readonly file: string;
  readonly target: PublishTarget;
  readonly image: ImagePin;
  readonly hypervisor: HypervisorConnection;
  readonly mcs?: McsConfig;
  readonly pvs?: PvsConfig;
}

/** Where a version's manifest lives unless the stack says otherwise. */
export const MANIFEST_PATH_TEMPLATE = "out/{recipe}/{version}/manifest.json";
/** The PVS SOAP/PowerShell port. */
export const DEFAULT_PVS_PORT = 54321;
export const DEFAULT_SSH_PORT = 22;
/** WS-Management's listener ports. */
export const WINRM_PORTS = { http: 5985, https: 5986 } as const;
export const DEFAULT_REBOOT_WARNING_MINUTES = 15;
/**
 * The reboot cycle Citrix's own examples use (citrix/delivery-controller-sdk
 * docs/Broker/Start-BrokerRebootCycle.md Example 1, citrix/citrix-mcs-sdk-samples Update-MasterImage.ps1).
 */
export const DEFAULT_ROLLING_REBOOT_MINUTES = 240;

export function defaultManifestPath(recipe: string, version: string): string {
  return MANIFEST_PATH_TEMPLATE.replace("{recipe}", recipe).replace("{version}", version);
}
