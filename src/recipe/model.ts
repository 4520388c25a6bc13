/**
 * The recipe and app model. These types are the single source of truth: `npm run schemas`
 * generates `schemas/*.schema.json` from them (TSDoc becomes the editor's hover text) and a test
 * fails when the committed schemas drift from the types.
 *
 * Annotations such as `@pattern` and `@minimum` are read by ts-json-schema-generator.
 */

/**
 * A reference to a secret, resolved at build time and never stored in a recipe:
 * `env:NAME` reads an environment variable, `pulumi:key` reads a Pulumi stack secret.
 * @pattern ^(env:[A-Za-z_][A-Za-z0-9_]*|pulumi:[A-Za-z0-9_.:-]+)$
 */
export type SecretRef = string;

/**
 * A lowercase sha256 digest in hex.
 * @pattern ^[a-f0-9]{64}$
 */
export type Sha256 = string;

/** Why an input is not pinned by sha256 yet. Plan and build show it loudly. */
export interface Unpinned {
  /**
   * Why there is no checksum yet, e.g. "vendor portal needs a login; pin after first download".
   * @minLength 10
   */
  readonly reason: string;
}

/** Why a file lives outside the project; validate and plan show it loudly. */
export interface OutsideProject {
  /**
   * Why, e.g. "the ISO library is a shared mount outside every repository".
   * @minLength 10
   */
  readonly reason: string;
}

/**
 * A file that goes into the image: a local path (relative to the file that names it) or a URL,
 * pinned by sha256. A URL must be pinned unless `unpinned` says why not.
 */
export interface Source {
  /** Local path, relative to the YAML file that names it. */
  readonly path?: string;
  /**
   * Download address: https, http or file (the schemes the downloader fetches).
   * @format uri
   * @pattern ^(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Ii][Ll][Ee]):
   */
  readonly url?: string;
  /** Expected sha256 of the file. Required for a URL unless `unpinned` is given. */
  readonly sha256?: Sha256;
  /** Allows a URL without sha256, with a reason. */
  readonly unpinned?: Unpinned;
  /** Allows a `path` outside the project (the directory holding apps/), with a reason. */
  readonly outsideProject?: OutsideProject;
}

/** OS family of the image. */
export type OsFamily = "windows" | "linux";

/** The operating system installed from an ISO with unattended answer media. */
export interface OsSpec {
  /** OS family: selects the answer media (autounattend.xml or cloud-init) and the guest shell. */
  readonly family: OsFamily;
  /** The install ISO. */
  readonly iso: Source;
  /** Windows edition name in install.wim, e.g. "Windows 11 Enterprise". */
  readonly edition?: string;
  /**
   * Windows image index in install.wim (used when `edition` is not given): a whole number from 1 to 100.
   * @asType integer
   * @minimum 1
   * @maximum 100
   */
  readonly imageIndex?: number;
  /**
   * Locale (BCP 47), e.g. "en-US".
   * @default "en-US"
   * @pattern ^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$
   */
  readonly locale?: string;
  /**
   * Time zone: a Windows time zone name or an IANA zone, e.g. "UTC", "W. Europe Standard Time".
   * @default "UTC"
   */
  readonly timezone?: string;
  /** Product key, as a secret reference (never a literal key). */
  readonly productKey?: SecretRef;
  /**
   * Host name given to the golden VM during the build.
   * @pattern ^[A-Za-z0-9-]{1,15}$
   */
  readonly hostname?: string;
  /**
   * How many minutes a wait on this OS (the install, a boot, a shutdown) may show no progress at
   * all (no console output, no disk writes, no CPU) before the build fails it as stalled. A
   * Windows install has quiet phases of a few minutes; `--stall-timeout` overrides it.
   * @asType integer
   * @minimum 1
   * @maximum 1440
   * @default 10
   */
  readonly stallTimeoutMinutes?: number;
}

/**
 * An exit code as Windows reports it: a 32-bit value, written unsigned (3010) or signed as
 * PowerShell shows HRESULTs (-2147024891): a whole number from -2147483648 to 4294967295.
 * @asType integer
 * @minimum -2147483648
 * @maximum 4294967295
 */
export type ExitCode = number;

/** Firmware of the golden VM. */
export type Firmware = "bios" | "uefi";

/** Virtual hardware of the golden VM. */
export interface Hardware {
  /**
   * Virtual CPUs: a whole number from 1 to 128 (the most QEMU, vSphere and XCP-ng all give one VM).
   * @asType integer
   * @minimum 1
   * @maximum 128
   * @default 2
   */
  readonly cpus?: number;
  /**
   * Memory in MiB: a whole number from 256 (an installer needs it) to 6291456 (6 TiB, vSphere 8's limit per VM).
   * @asType integer
   * @minimum 256
   * @maximum 6291456
   * @default 4096
   */
  readonly memoryMiB?: number;
  /**
   * System disk size in GiB: a whole number from 1 to 65536 (64 TiB, the largest VHDX).
   * @asType integer
   * @minimum 1
   * @maximum 65536
   * @default 64
   */
  readonly diskGiB?: number;
  /**
   * Firmware.
   * @default "uefi"
   */
  readonly firmware?: Firmware;
  /**
   * UEFI secure boot (needs firmware uefi).
   * @default false
   */
  readonly secureBoot?: boolean;
  /**
   * Virtual TPM 2.0 (swtpm under QEMU). Windows 11 needs it.
   * @default false
   */
  readonly tpm?: boolean;
}

/** Which OS updates the build installs. */
export type UpdatePolicy = "none" | "security" | "all";

/** OS updates applied after the OS install, before drivers and apps. */
export interface Updates {
  /**
   * none: install nothing; security: security updates only; all: every available update.
   * @default "none"
   */
  readonly policy: UpdatePolicy;
  /**
   * Reboot-and-retry rounds before the build gives up (Windows Update often needs several).
   * @asType integer
   * @minimum 1
   * @maximum 20
   * @default 5
   */
  readonly maxRounds?: number;
  /** Update IDs (KB numbers, package names) never to install. */
  readonly exclude?: readonly string[];
}

/** A shell inside the guest. */
export type Shell = "powershell" | "cmd" | "sh";

/** A device driver installed in the updates-and-drivers layer. */
export interface Driver {
  /**
   * Driver name, unique in the recipe.
   * @pattern ^[a-z0-9][a-z0-9._-]*$
   */
  readonly name: string;
  /** Driver version, shown in plans and diffs. */
  readonly version: string;
  /** The driver package. */
  readonly source: Source;
  /**
   * Install command; placeholders: {file} (the uploaded package), {dir} (its folder).
   * Default for Windows: pnputil /add-driver {file} /install.
   */
  readonly install?: string;
  /** Shell for the install command. */
  readonly shell?: Shell;
}

/** Hypervisor integration tools. */
export type ToolsKind = "vmware-tools" | "xenserver-vm-tools" | "qemu-guest-agent";

/** Hypervisor tools, installed with the drivers, before the apps. */
export interface HypervisorTools {
  /** Which tools. */
  readonly kind: ToolsKind;
  /** Version, shown in plans and diffs. */
  readonly version: string;
  /** The installer; omit when the OS ships the tools (e.g. qemu-guest-agent in the test OS). */
  readonly installer?: Source;
  /** Silent install command; placeholders: {file}, {dir}. */
  readonly install?: string;
  /** Shell for the install command. */
  readonly shell?: Shell;
}

/**
 * A reference to an app definition in apps/: `name@version`.
 * @pattern ^[a-z0-9][a-z0-9._-]*@[A-Za-z0-9][A-Za-z0-9._+-]*$
 */
export type AppRef = string;

/** VDA role: the multi-session server OS VDA or the single-session desktop OS VDA. */
export type VdaRole = "server" | "desktop";

/** The Citrix Virtual Delivery Agent. */
export interface Vda {
  /** VDA version, e.g. "2402.0.100.629". */
  readonly version: string;
  /** The VDA installer (VDAServerSetup / VDAWorkstationSetup, or the Linux VDA package). */
  readonly installer: Source;
  /** Server (multi-session) or desktop (single-session) VDA. */
  readonly role: VdaRole;
  /**
   * Installer options, e.g. ["/quiet", "/components vda", "/controllers 'ddc1.corp.local'"].
   * @default []
   */
  readonly options?: readonly string[];
}

/** Joining the golden VM to a domain (MCS only; PVS masters must not be joined before capture). */
export interface DomainJoin {
  /** Domain FQDN. */
  readonly domain: string;
  /** Organisational unit for the computer account. */
  readonly ou?: string;
  /** Account allowed to join machines. */
  readonly user: string;
  /** Password of that account, as a secret reference. */
  readonly password: SecretRef;
}

/** MCS: the golden VM is shut down and snapshotted; the catalog points at the snapshot. */
export interface McsTarget {
  /** Target kind. */
  readonly kind: "mcs";
  /** Optional domain join before the snapshot. */
  readonly domainJoin?: DomainJoin;
  /**
   * Snapshot name template; placeholders {name}, {version}, {build}.
   * @default "{name}-{version}-{build}"
   */
  readonly snapshotName?: string;
  /**
   * Shut the VM down before the snapshot. MCS needs a powered-off master, so false is an error.
   * @default true
   */
  readonly shutdown?: boolean;
}

/** PVS write-cache type of the vDisk. */
export type WriteCacheType =
  | "device-ram-with-overflow-on-disk"
  | "device-hard-disk"
  | "device-ram"
  | "server-disk";

/** The Citrix Provisioning target-device software. */
export interface PvsTargetDevice {
  /** Version, shown in plans and diffs. */
  readonly version: string;
  /** The installer (PVS_Device_x64.exe, or the Linux target package). */
  readonly installer: Source;
  /** Silent install command; placeholders: {file}, {dir}. */
  readonly install?: string;
  /** Shell for the install command. */
  readonly shell?: Shell;
  /**
   * When the golden VM reboots after the install. Default per OS family: Windows "always" (the
   * streaming NIC filter driver binds only at boot); Linux "if-required" (the package adds its
   * modules to the initramfs for the next, streamed, boot, and Citrix's Linux flow images right
   * after installing it), which reboots when the install exits 3010 (194 as sh leaves it) or the package asked the
   * distribution for a reboot (/var/run/reboot-required, `needs-restarting -r`).
   */
  readonly reboot?: RebootPolicy;
}

/** PVS: the disk is captured to a VHDX vDisk streamed to target devices. */
export interface PvsTarget {
  /** Target kind. */
  readonly kind: "pvs";
  /** The target-device software (required: it holds the streaming NIC filter driver). */
  readonly targetDevice: PvsTargetDevice;
  /**
   * vDisk name in the store (without .vhdx).
   * @pattern ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$
   */
  readonly vdiskName: string;
  /**
   * Target device name used while imaging; may differ from the VM name (15 characters at most).
   * @pattern ^[A-Za-z0-9-]{1,15}$
   */
  readonly targetDeviceName?: string;
  /**
   * Write-cache type the vDisk is published with.
   * @default "device-ram-with-overflow-on-disk"
   */
  readonly writeCache?: WriteCacheType;
  /**
   * RAM cache size in MiB for the RAM-based cache types.
   * A whole number of MiB, at least 64; at most 1048576 (1 TiB; Citrix documents no upper bound).
   * @asType integer
   * @minimum 64
   * @maximum 1048576
   * @default 256
   */
  readonly ramCacheMiB?: number;
  /**
   * Shut the VM down before capture. PVS captures after a clean seal, so true is an error.
   * @default false
   */
  readonly shutdown?: boolean;
  /** A domain join before capture is forbidden for PVS; present only so validation can say so. */
  readonly domainJoin?: DomainJoin;
}

/**
 * What the image is captured for, chosen by `kind`.
 * @discriminator kind
 */
export type Target = McsTarget | PvsTarget;

/** A script run inside the guest. Exactly one of `run` and `file`. */
export interface Script {
  /** Name, unique in its list. */
  readonly name: string;
  /** Shell that runs the script. */
  readonly shell: Shell;
  /** Inline script text. */
  readonly run?: string;
  /** Script file, relative to the recipe. */
  readonly file?: string;
  /** Allows a `file` outside the project (the directory holding apps/), with a reason. */
  readonly outsideProject?: OutsideProject;
  /**
   * Exit codes that mean success; 3010 means "success, reboot required". On Linux, where an exit
   * status has 8 bits, a code is compared as sh leaves it (3010 as 194).
   * @default [0]
   * @minItems 1
   */
  readonly successCodes?: readonly ExitCode[];
  /**
   * Reboot after the script.
   * @default false
   */
  readonly reboot?: boolean;
  /**
   * Time limit in seconds.
   * A whole number of seconds from 1 to 86400 (one day).
   * @asType integer
   * @minimum 1
   * @maximum 86400
   * @default 1800
   */
  readonly timeoutSeconds?: number;
}

/** Sealing: the last step before capture. */
export interface Seal {
  /**
   * Generalise the image (sysprep /generalize on Windows; machine-id and host keys reset on Linux).
   * @default true
   */
  readonly generalize?: boolean;
  /** Cleanup actions, e.g. "temp", "logs", "windows-update-cache", "event-logs". */
  readonly cleanup?: readonly string[];
  /** Optimisation and cleanup scripts (e.g. Citrix Optimizer), run in order before generalising. */
  readonly scripts?: readonly Script[];
}

/** A check run inside the finished image by `rebake verify`: exit 0 means pass. */
export interface Check extends Script {
  /** What the check proves, shown in verify reports. */
  readonly description?: string;
}

/** The layer a custom step is placed after. */
export type Phase = "os" | "updates" | "drivers" | "tools" | "apps" | "vda" | "target-device" | "seal";

/** A custom step placed after a named phase. */
export interface CustomStep extends Script {
  /** The step runs after this phase and before the next one. */
  readonly after: Phase;
}

/** Recipe metadata. */
export interface Metadata {
  /**
   * Recipe name; the file is named after it.
   * @pattern ^[a-z0-9][a-z0-9-]{0,62}$
   */
  readonly name: string;
  /**
   * Recipe version (semver).
   * @pattern ^[0-9]+\.[0-9]+\.[0-9]+([-+][A-Za-z0-9.-]+)?$
   */
  readonly version: string;
  /** What this image is for. */
  readonly description?: string;
  /** Who owns the image: people or teams. */
  readonly owners?: readonly string[];
}

/** A golden image recipe: what goes into the image, independent of the environment. */
export interface Recipe {
  /** Recipe metadata. */
  readonly metadata: Metadata;
  /** The OS and its install ISO. */
  readonly os: OsSpec;
  /** Virtual hardware of the golden VM. */
  readonly hardware?: Hardware;
  /** OS updates. */
  readonly updates?: Updates;
  /** Device drivers. */
  readonly drivers?: readonly Driver[];
  /** Hypervisor tools. */
  readonly hypervisorTools?: HypervisorTools;
  /** Applications, as `name@version` references into apps/, installed in this order. */
  readonly apps?: readonly AppRef[];
  /** The Citrix VDA. */
  readonly vda?: Vda;
  /** What the image is captured for: MCS (snapshot) or PVS (vDisk). */
  readonly target: Target;
  /** Sealing. */
  readonly seal?: Seal;
  /** Checks run against the finished image. */
  readonly checks?: readonly Check[];
  /** Custom steps, each placed after a named phase. */
  readonly steps?: readonly CustomStep[];
}

/** When an install reboots the guest. */
export type RebootPolicy = "never" | "always" | "if-required";

/** How to install an app on one OS family. */
export interface InstallCommand {
  /**
   * Silent install command; placeholders: {file} (the uploaded installer), {dir} (its folder),
   * {version}, {name}.
   */
  readonly command: string;
  /** Shell for the command. */
  readonly shell: Shell;
}

/** How the build decides whether an app is already installed. */
export interface Detection {
  /** A file that exists once the app is installed. */
  readonly file?: string;
  /** A registry key (Windows) that exists once the app is installed. */
  readonly registry?: string;
  /** A command that exits 0 once the app is installed. */
  readonly command?: string;
}

/** An app package, defined once in apps/ and referenced by many recipes as `name@version`. */
export interface App {
  /**
   * App name.
   * @pattern ^[a-z0-9][a-z0-9._-]*$
   */
  readonly name: string;
  /** App version. */
  readonly version: string;
  /** What the app is. */
  readonly description?: string;
  /** The installer. */
  readonly source: Source;
  /**
   * Install command per OS family (at least one).
   * @minProperties 1
   */
  readonly install: {
    readonly windows?: InstallCommand;
    readonly linux?: InstallCommand;
  };
  /**
   * Exit codes that mean success; 3010 means "success, reboot required". On Linux, where an exit
   * status has 8 bits, a code is compared as sh leaves it (3010 as 194).
   * @default [0]
   * @minItems 1
   */
  readonly successCodes?: readonly ExitCode[];
  /**
   * When the install reboots the guest.
   * @default "if-required"
   */
  readonly reboot?: RebootPolicy;
  /** How to tell that the app is installed. */
  readonly detect?: Detection;
  /** Other apps, as `name@version`, that must be installed first. */
  readonly dependsOn?: readonly AppRef[];
}
