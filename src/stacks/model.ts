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
}

export interface XenOrchestraConnection {
  readonly kind: "xenorchestra";
  /** `https://xo.example` */
  readonly url: string;
  readonly token: SecretRef;
  /** @default false */
  readonly insecure: boolean;
}

export type HypervisorConnection = QemuConnection | VsphereConnection | XenOrchestraConnection;

export type RebootStrategy = "none" | "rolling" | "immediate";

export interface McsCatalog {
  /** Display name, also the Pulumi resource name. */
  readonly name: string;
  /** The CVAD machine catalog id (GUID). */
  readonly id: string;
  /** The hosting unit the catalog's machines live on (`XDHyp:\HostingUnits\<unit>`). */
  readonly hostingUnit: string;
  /** How machines pick up the new image. @default "rolling" */
  readonly reboot: RebootStrategy;
  /** Minutes of warning users get before a reboot. @default 15 */
  readonly rebootWarningMinutes: number;
}

export interface McsConfig {
  /** The golden VM to snapshot, by name (for the image path) and hypervisor UUID. */
  readonly goldenVm: { readonly name: string; readonly uuid: string };
  /** The CVAD REST endpoint (`https://api.cloud.com` or an on-premises Director/Orchestration URL). */
  readonly cvad: { readonly url: string; readonly customerId: string; readonly siteId: string; readonly token: SecretRef };
  readonly catalogs: readonly McsCatalog[];
}

export type PvsAccessMode = "maintenance" | "test" | "production";

/** Where the PVS PowerShell snap-in runs. */
export type PvsExecutorConfig =
  | { readonly kind: "local" }
  | { readonly kind: "ssh"; readonly host: string; readonly user: string; readonly port: number; readonly identityFile?: string };

export interface PvsStore {
  /** The store name in the PVS farm. */
  readonly name: string;
  /** A filesystem path (local, UNC, a mounted share) or `smb://host[:port]/share/path`. */
  readonly location: string;
  /** For `smb://` stores; absent means guest access. */
  readonly username?: string;
  readonly password?: SecretRef;
}

export interface PvsSite {
  readonly name: string;
  /** The PVS server of the site that registers the vDisk. */
  readonly server: string;
  /** The device collection whose devices boot the vDisk. */
  readonly collection: string;
  readonly store: PvsStore;
}

export interface PvsConfig {
  /** The server the snap-in connects to (`Set-PvsConnection -Server`). */
  readonly server: string;
  /** @default 54321 */
  readonly port: number;
  readonly executor: PvsExecutorConfig;
  /** The access mode this environment gives the published version. */
  readonly accessMode: PvsAccessMode;
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
export const DEFAULT_REBOOT_WARNING_MINUTES = 15;

export function defaultManifestPath(recipe: string, version: string): string {
  return MANIFEST_PATH_TEMPLATE.replace("{recipe}", recipe).replace("{version}", version);
}
