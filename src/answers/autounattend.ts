/**
 * Windows Setup answer file (autounattend.xml) for Windows recipes: a fully unattended install
 * from the ISO to a desktop where the guest agent answers, with no keystroke typed anywhere.
 *
 * Element names and order follow Microsoft's unattend reference (Windows SIM writes settings in
 * schema order, alphabetical within a component), with every component in the amd64 flavour.
 * Secrets (product key, administrator password) appear only inside their own elements.
 */
import type { Firmware, Recipe } from "../recipe/model.ts";
import type { ResolveSecret } from "../recipe/secrets.ts";
import { DEFAULT_FIRMWARE } from "./defaults.ts";
import { GUEST_TOOLS_SCRIPT } from "./guest-tools-script.ts";
import { buildHostname } from "./hostname.ts";
import { installerLocale } from "./locale.ts";
import { windowsTimeZone } from "./timezone.ts";
import { el, renderXml, type XmlElement } from "./xml.ts";

export const UNATTEND_NAMESPACE = "urn:schemas-microsoft-com:unattend";
export const WCM_NAMESPACE = "http://schemas.microsoft.com/WMIConfig/2002/State";
export const XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance";

/** The account the build logs on with. */
export const DEFAULT_ADMIN_USER = "rebake";
/**
 * One automatic logon runs the FirstLogonCommands; after that the guest agent (a service) is the
 * channel and needs nobody logged on.
 */
export const DEFAULT_AUTO_LOGON_COUNT = 1;

/** Partition sizes in MB, as Microsoft's sample disk layouts use them. */
export const SYSTEM_RESERVED_MB = 500;
export const EFI_PARTITION_MB = 100;
export const MSR_PARTITION_MB = 16;

/** Windows local account names: at most 20 characters, none of the reserved punctuation. */
const ACCOUNT_NAME = /^[A-Za-z0-9._-]{1,20}$/;

const DRIVE_LETTERS = "C D E F G H I J K L M N O P Q R S T U V W X Y Z";

export interface AutounattendOptions {
  /** The build administrator's password (see generateAdminPassword); written only into its elements. */
  readonly adminPassword: string;
  /** Resolves `os.productKey`; called only when the recipe has one. */
  readonly resolveSecret: ResolveSecret;
  /** @default DEFAULT_ADMIN_USER */
  readonly adminUser?: string;
  /** @default DEFAULT_AUTO_LOGON_COUNT */
  readonly autoLogonCount?: number;
}

/** The recipe or options cannot produce a working answer file. */
export class AutounattendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

interface Partition {
  readonly type: "Primary" | "EFI" | "MSR";
  /** Size in MB; absent means "the rest of the disk". */
  readonly sizeMb?: number;
  readonly format?: "NTFS" | "FAT32";
  readonly label?: string;
  readonly letter?: string;
  readonly active?: boolean;
}

interface DiskLayout {
  readonly partitions: readonly Partition[];
  /** 1-based index of the Windows partition. */
  readonly windowsPartition: number;
}

const DISK_LAYOUTS: Readonly<Record<Firmware, DiskLayout>> = {
  // MBR: the active System Reserved partition holds the boot manager.
  bios: {
    partitions: [
      { type: "Primary", sizeMb: SYSTEM_RESERVED_MB, format: "NTFS", label: "System Reserved", active: true },
      { type: "Primary", format: "NTFS", label: "Windows", letter: "C" },
    ],
    windowsPartition: 2,
  },
  // GPT: EFI system partition (FAT32, as firmware reads it), MSR, then Windows. No recovery
  // partition: a golden image is rebuilt, not repaired.
  uefi: {
    partitions: [
      { type: "EFI", sizeMb: EFI_PARTITION_MB, format: "FAT32", label: "System" },
      { type: "MSR", sizeMb: MSR_PARTITION_MB },
      { type: "Primary", format: "NTFS", label: "Windows", letter: "C" },
    ],
    windowsPartition: 3,
  },
};

function component(name: string, settings: readonly XmlElement[]): XmlElement {
  return el("component", settings, {
    name,
    processorArchitecture: "amd64",
    publicKeyToken: "31bf3856ad364e35",
    language: "neutral",
    versionScope: "nonSxS",
    "xmlns:wcm": WCM_NAMESPACE,
    "xmlns:xsi": XSI_NAMESPACE,
  });
}

const ADD = { "wcm:action": "add" } as const;

function diskConfiguration(layout: DiskLayout): XmlElement {
  const create = layout.partitions.map((p, i) =>
    el(
      "CreatePartition",
      [
        ...(p.sizeMb === undefined ? [el("Extend", "true")] : []),
        el("Order", String(i + 1)),
        ...(p.sizeMb !== undefined ? [el("Size", String(p.sizeMb))] : []),
        el("Type", p.type),
      ],
      ADD,
    ),
  );
  const modify = layout.partitions.map((p, i) =>
    el(
      "ModifyPartition",
      [
        ...(p.active ? [el("Active", "true")] : []),
        ...(p.format ? [el("Format", p.format)] : []),
        ...(p.label ? [el("Label", p.label)] : []),
        ...(p.letter ? [el("Letter", p.letter)] : []),
        el("Order", String(i + 1)),
        el("PartitionID", String(i + 1)),
      ],
      ADD,
    ),
  );
  return el("DiskConfiguration", [
    el(
      "Disk",
      [el("CreatePartitions", create), el("DiskID", "0"), el("ModifyPartitions", modify), el("WillWipeDisk", "true")],
      ADD,
    ),
    el("WillShowUI", "OnError"),
  ]);
}

/** /IMAGE/NAME when the recipe names the edition, else /IMAGE/INDEX. */
function imageSelector(recipe: Recipe): { readonly key: string; readonly value: string } {
  if (recipe.os.edition !== undefined) return { key: "/IMAGE/NAME", value: recipe.os.edition };
  if (recipe.os.imageIndex !== undefined) return { key: "/IMAGE/INDEX", value: String(recipe.os.imageIndex) };
  throw new AutounattendError(
    `recipe ${recipe.metadata.name}: a Windows install needs os.edition (e.g. "Windows 11 Enterprise") or os.imageIndex, otherwise Setup stops at the edition picker`,
  );
}

function imageInstall(recipe: Recipe, layout: DiskLayout): XmlElement {
  const selector = imageSelector(recipe);
  return el("ImageInstall", [
    el("OSImage", [
      el("InstallFrom", [el("MetaData", [el("Key", selector.key), el("Value", selector.value)], ADD)]),
      el("InstallTo", [el("DiskID", "0"), el("PartitionID", String(layout.windowsPartition))]),
      el("WillShowUI", "OnError"),
    ]),
  ]);
}

function userData(productKey: string | undefined): XmlElement {
  return el("UserData", [
    el("AcceptEula", "true"),
    ...(productKey !== undefined ? [el("ProductKey", [el("Key", productKey), el("WillShowUI", "Never")])] : []),
  ]);
}

function localeSettings(locale: string): XmlElement[] {
  return [el("InputLocale", locale), el("SystemLocale", locale), el("UILanguage", locale), el("UserLocale", locale)];
}

function password(value: string): XmlElement {
  return el("Password", [el("Value", value), el("PlainText", "true")]);
}

function firstLogonCommands(): XmlElement {
  const commands = [
    {
      description: "Enable WinRM for remote management",
      line: "powershell.exe -NoProfile -ExecutionPolicy Bypass -Command Enable-PSRemoting -Force -SkipNetworkProfileCheck",
    },
    {
      description: "Install and start the hypervisor guest tools",
      // cmd's for-loop finds the answer media, whatever letter Setup gave it.
      line: `cmd.exe /c for %d in (${DRIVE_LETTERS}) do @if exist %d:\\${GUEST_TOOLS_SCRIPT} powershell.exe -NoProfile -ExecutionPolicy Bypass -File %d:\\${GUEST_TOOLS_SCRIPT}`,
    },
  ];
  return el(
    "FirstLogonCommands",
    commands.map((command, i) =>
      el(
        "SynchronousCommand",
        [
          el("CommandLine", command.line),
          el("Description", command.description),
          el("Order", String(i + 1)),
          el("RequiresUserInput", "false"),
        ],
        ADD,
      ),
    ),
  );
}

export function renderAutounattend(recipe: Recipe, options: AutounattendOptions): string {
  const adminUser = options.adminUser ?? DEFAULT_ADMIN_USER;
  const autoLogonCount = options.autoLogonCount ?? DEFAULT_AUTO_LOGON_COUNT;
  if (!ACCOUNT_NAME.test(adminUser)) {
    throw new AutounattendError(`administrator account name must be 1-20 letters, digits, dots, hyphens or underscores, got: ${JSON.stringify(adminUser)}`);
  }
  if (options.adminPassword === "") {
    throw new AutounattendError("the administrator password is empty; pass one from generateAdminPassword()");
  }
  if (!Number.isInteger(autoLogonCount) || autoLogonCount < 1) {
    throw new AutounattendError(`autoLogonCount must be a whole number of at least 1, got: ${autoLogonCount}`);
  }
  const layout = DISK_LAYOUTS[recipe.hardware?.firmware ?? DEFAULT_FIRMWARE];
  const locale = installerLocale(recipe).windows;
  const productKey = recipe.os.productKey === undefined ? undefined : options.resolveSecret(recipe.os.productKey);

  const windowsPE = el(
    "settings",
    [
      component("Microsoft-Windows-International-Core-WinPE", [
        el("SetupUILanguage", [el("UILanguage", locale)]),
        ...localeSettings(locale),
      ]),
      component("Microsoft-Windows-Setup", [diskConfiguration(layout), imageInstall(recipe, layout), userData(productKey)]),
    ],
    { pass: "windowsPE" },
  );
  const specialize = el(
    "settings",
    [component("Microsoft-Windows-Shell-Setup", [el("ComputerName", buildHostname(recipe)), el("TimeZone", windowsTimeZone(recipe))])],
    { pass: "specialize" },
  );
  const oobeSystem = el(
    "settings",
    [
      component("Microsoft-Windows-International-Core", localeSettings(locale)),
      component("Microsoft-Windows-Shell-Setup", [
        el("AutoLogon", [
          password(options.adminPassword),
          el("Enabled", "true"),
          el("LogonCount", String(autoLogonCount)),
          el("Username", adminUser),
        ]),
        firstLogonCommands(),
        el("OOBE", [
          el("HideEULAPage", "true"),
          el("HideLocalAccountScreen", "true"),
          el("HideOEMRegistrationScreen", "true"),
          el("HideOnlineAccountScreens", "true"),
          el("HideWirelessSetupInOOBE", "true"),
          el("ProtectYourPC", "3"),
        ]),
        el("UserAccounts", [
          el("LocalAccounts", [
            el(
              "LocalAccount",
              [
                password(options.adminPassword),
                el("Description", "rebake build administrator"),
                el("DisplayName", adminUser),
                el("Group", "Administrators"),
                el("Name", adminUser),
              ],
              ADD,
            ),
          ]),
        ]),
      ]),
    ],
    { pass: "oobeSystem" },
  );
  return renderXml(el("unattend", [windowsPE, specialize, oobeSystem], { xmlns: UNATTEND_NAMESPACE }));
}
