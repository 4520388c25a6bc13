/**
 * The Citrix.PVS.SnapIn cmdlets rebake uses (and the vDisk version cmdlets), as data: each
 * parameter, its type, its aliases, and what the reference says must be given. Facts only, from
 * Citrix's published reference `citrix/provisioning-services-powershell-object-programming-guide`
 * docs/cmdlets.md at PVS_REFERENCE.commit; `section` names the heading each entry was read from.
 *
 * How the reference's wording maps here:
 * - "Guid Guid or DiskLocatorId": the parameter Guid with the alias DiskLocatorId. The reference
 *   does not say which of the two is the declared name; PowerShell binds either the same way.
 * - "This required" with one member, "Required" for the object a Set takes, and parameters "that
 *   do not have a Default" of a New-: `mandatory` (PowerShell's binder refuses the call without it).
 * - "One of these required" / "This required ... or this required & resolution": `requiredOneOf`,
 *   at least one member of each group (or the pipeline Object instead).
 * - "resolution": `resolutions`, a name that needs one member of each listed group beside it
 *   (DiskLocatorName needs SiteName/SiteId and StoreName/StoreId).
 * - "Max Length=N": `maxLength`.
 * - Set- cmdlets have two forms, an object (`objectParameter`, parameter set Object) or "When X is
 *   not passed, the parameters below are used" (parameter set Fields, the `defaultSet`).
 * Where the reference is silent (which error a Get raises for something absent, whether two
 * members of one group may be combined) nothing is encoded; see the notes.
 */

export const PVS_REFERENCE = {
  repo: "citrix/provisioning-services-powershell-object-programming-guide",
  path: "docs/cmdlets.md",
  commit: "15b66fe7efe3307f31c1e9d44ec1ebb534cdc007",
  errorCodes: "docs/error-codes.md",
  objects: "docs/citrix-pvs-snapin-namespace.md",
} as const;

import type { CmdletParameter, CmdletSpec, PsType } from "./cmdlet-spec.ts";

const p = (name: string, type: PsType, extra: Omit<CmdletParameter, "name" | "type"> = {}): CmdletParameter => ({ name, type, ...extra });
const fields = (list: readonly CmdletParameter[]): CmdletParameter[] => list.map((param) => ({ ...param, sets: ["Fields"] }));

const CONFIRM = p("Confirm", "SwitchParameter");
const PASS_THRU = p("PassThru", "SwitchParameter");
const PIPELINE_OBJECT = p("Object", "PvsObject[]", { pipeline: true });
const FIELDS = p("Fields", "string[]");
const SITE = ["SiteId", "SiteName"] as const;
const STORE = ["StoreId", "StoreName"] as const;
/** "Guid can be used instead of Name so that the SiteName or SiteId and StoreName or StoreId are not also needed." */
const NAME_NEEDS_SITE_AND_STORE = { Name: [SITE, STORE] } as const;

/** A disk locator by GUID, or by name in a site and store; `arrays` where the reference types them Guid[]/string[]. */
function diskLocator(arrays: boolean): CmdletParameter[] {
  const guid = arrays ? "Guid[]" : "Guid";
  const text = arrays ? "string[]" : "string";
  return [
    p("Guid", guid, { aliases: ["DiskLocatorId"] }),
    p("Name", text, { aliases: ["DiskLocatorName"] }),
    p("SiteId", guid),
    p("SiteName", text),
    p("StoreId", guid),
    p("StoreName", text),
  ];
}

/**
 * The disk-locator cmdlets of the version family share one shape: identity, extras, Object, and
 * Confirm (actions) or Fields (Gets, "pass them in the Fields parameter as a string array").
 */
function onDiskLocator(name: string, extras: readonly CmdletParameter[], more: Partial<CmdletSpec> = {}, shape: { arrays?: boolean; tail?: "Confirm" | "Fields" | "none" } = {}): CmdletSpec {
  const tail = { Confirm: [CONFIRM], Fields: [FIELDS], none: [] }[shape.tail ?? "Confirm"];
  return {
    name,
    section: `## ${name}`,
    parameters: [...diskLocator(shape.arrays ?? true), ...extras, PIPELINE_OBJECT, ...tail],
    requiredOneOf: [["Guid", "Name"]],
    resolutions: NAME_NEEDS_SITE_AND_STORE,
    ...more,
  };
}

/** Settable PvsDevice fields, shared by New-PvsDevice and Set-PvsDevice (types per each section). */
const DEVICE_FIELDS_COMMON: readonly CmdletParameter[] = [
  p("Description", "string", { maxLength: 250 }),
  p("BootFrom", "uint"),
  p("ClassName", "string"),
  p("Port", "uint"),
  p("Authentication", "uint"),
  p("User", "string"),
  p("Password", "string"),
  p("AdTimestamp", "uint"),
  p("AdSignature", "uint"),
  p("AdPassword", "string"),
  p("LogLevel", "uint"),
  p("DomainName", "string"),
  p("DomainObjectSID", "string"),
  p("DomainControllerName", "string"),
  p("DomainTimeCreated", "DateTime"),
  p("Type", "uint"),
  p("LocalWriteCacheDiskSize", "uint"),
  p("BdmType", "uint"),
  p("BdmFormat", "uint"),
  p("BdmUpdated", "DateTime"),
  p("BdmCreated", "DateTime"),
  p("XsPvsProxyUuid", "Guid"),
  p("EnableXsProxy", "string"),
];

/** Settable PvsDisk fields ("Optional field values to set" of Set-PvsDisk). Description is not one: LongDescription is. */
const DISK_FIELDS: readonly CmdletParameter[] = [
  p("Class", "string"),
  p("ImageType", "string"),
  p("WriteCacheSize", "UInt64"),
  p("AutoUpdateEnabled", "bool"),
  p("ActivationDateEnabled", "bool"),
  p("AdPasswordEnabled", "bool"),
  p("HaEnabled", "bool"),
  p("PrinterManagementEnabled", "bool"),
  p("WriteCacheType", "uint"),
  p("LicenseMode", "uint"),
  p("AccelerateOfficeActivation", "bool"),
  p("ActiveDate", "DateTime"),
  p("LongDescription", "string", { maxLength: 399 }),
  p("OperatingSystem", "string"),
  p("OsType", "string"),
  p("SerialNumber", "string"),
  p("Date", "string"),
  p("Author", "string"),
  p("Title", "string"),
  p("Company", "string"),
  p("InternalName", "string"),
  p("OriginalFile", "string"),
  p("HardwareTarget", "string"),
  p("MajorRelease", "UInt64"),
  p("MinorRelease", "UInt64"),
  p("Build", "UInt64"),
  p("ClearCacheDisabled", "string"),
  p("VHDX", "bool"),
];

const BOOTSERVERS: readonly CmdletParameter[] = [1, 2, 3, 4].flatMap((n) => [
  p(`Bootserver${n}_Ip`, "string"),
  p(`Bootserver${n}_Netmask`, "string"),
  p(`Bootserver${n}_Gateway`, "string"),
  p(`Bootserver${n}_Port`, "uint"),
]);

/** A Set- cmdlet: the object form, or the Fields form with its identity and field parameters. */
function setCmdlet(name: string, objectParameter: string, objectType: PsType, fieldForm: readonly CmdletParameter[], more: Partial<CmdletSpec> = {}): CmdletSpec {
  return {
    name,
    section: `## ${name}`,
    objectParameter,
    defaultSet: "Fields",
    // The examples pass the object positionally ("Set-PvsDisk $o").
    parameters: [p(objectParameter, objectType, { mandatory: true, pipeline: true, sets: ["Object"], position: 0 }), ...fields(fieldForm), PASS_THRU, CONFIRM],
    ...more,
  };
}

export const PVS_CMDLETS: readonly CmdletSpec[] = [
  {
    name: "Add-PvsDiskLocatorToDevice",
    section: "## Add-PvsDiskLocatorToDevice",
    parameters: [
      p("Guid", "Guid[]", { aliases: ["DiskLocatorId"] }),
      p("Name", "string[]", { aliases: ["DiskLocatorName"] }),
      p("DeviceId", "Guid[]"),
      p("DeviceName", "string[]"),
      p("DeviceMac", "PvsPhysicalAddress[]"),
      p("CollectionId", "Guid[]"),
      p("SiteViewId", "Guid[]"),
      p("FarmViewId", "Guid[]"),
      p("FarmViewName", "string[]"),
      p("CollectionName", "string[]"),
      p("SiteViewName", "string[]"),
      p("RemoveExisting", "SwitchParameter"),
      p("SiteId", "Guid[]"),
      p("SiteName", "string[]"),
      p("StoreId", "Guid[]"),
      p("StoreName", "string[]"),
      PIPELINE_OBJECT,
      CONFIRM,
    ],
    requiredOneOf: [
      ["Guid", "Name"],
      ["DeviceId", "DeviceName", "DeviceMac", "CollectionId", "SiteViewId", "FarmViewId", "FarmViewName", "CollectionName", "SiteViewName"],
    ],
    resolutions: { ...NAME_NEEDS_SITE_AND_STORE, CollectionName: [SITE], SiteViewName: [SITE] },
    notes: ["-RemoveExisting: remove the existing Disk Locators before assigning the new one."],
  },
  onDiskLocator("Add-PvsDiskVersion", [], { notes: ["A manifest file for the new Disk Version(s) must exist in the Store."] }),
  // The section lists no Confirm parameter.
  onDiskLocator("Export-PvsDisk", [p("Version", "uint")], { notes: ["Exports the disk stack to a manifest file; Version is the first version exported (to the highest)."] }, { tail: "none" }),
  {
    name: "Get-PvsDevice",
    section: "## Get-PvsDevice",
    parameters: [
      p("Guid", "Guid[]", { aliases: ["DeviceId"] }),
      p("Name", "string[]", { aliases: ["DeviceName"] }),
      p("DeviceMac", "PvsPhysicalAddress[]"),
      p("CollectionId", "Guid[]"),
      p("ServerId", "Guid[]"),
      p("ServerName", "string[]"),
      p("DiskLocatorId", "Guid[]"),
      p("SiteViewId", "Guid[]"),
      p("SiteId", "Guid[]"),
      p("SiteName", "string[]"),
      p("FarmViewId", "Guid[]"),
      p("FarmViewName", "string[]"),
      p("BdmBoot", "string[]"),
      p("CollectionName", "string[]"),
      p("DiskLocatorName", "string[]"),
      p("SiteViewName", "string[]"),
      p("StoreId", "Guid[]"),
      p("StoreName", "string[]"),
      PIPELINE_OBJECT,
      FIELDS,
    ],
    resolutions: { CollectionName: [SITE], DiskLocatorName: [SITE, STORE], SiteViewName: [SITE] },
    returns: [{ type: "PvsDevice[]" }],
    notes: ["All Devices are returned if no parameters are passed.", "The PvsDevice field is listed as 'Name or DeviceName' (docs/citrix-pvs-snapin-namespace.md) without saying which is the property."],
  },
  onDiskLocator("Get-PvsDisk", [], { returns: [{ type: "PvsDisk[]" }] }, { tail: "Fields" }),
  {
    name: "Get-PvsDiskLocator",
    section: "## Get-PvsDiskLocator",
    parameters: [
      p("Guid", "Guid[]", { aliases: ["DiskLocatorId"] }),
      p("DeviceId", "Guid[]"),
      p("DeviceName", "string[]"),
      p("DeviceMac", "PvsPhysicalAddress[]"),
      p("ServerId", "Guid[]"),
      p("ServerName", "string[]"),
      p("UpdateTaskId", "Guid[]"),
      p("SiteId", "Guid[]"),
      p("SiteName", "string[]"),
      p("Name", "string[]", { aliases: ["DiskLocatorName"] }),
      p("StoreId", "Guid[]"),
      p("StoreName", "string[]"),
      p("UpdateTaskName", "string[]"),
      p("Single", "SwitchParameter"),
      p("All", "SwitchParameter"),
      p("OnlyActive", "SwitchParameter"),
      p("UpdateDevice", "SwitchParameter"),
      PIPELINE_OBJECT,
      FIELDS,
    ],
    resolutions: { ...NAME_NEEDS_SITE_AND_STORE, UpdateTaskName: [SITE] },
    returns: [{ type: "PvsDiskLocator[]" }],
    notes: [
      "All DiskLocators are returned if no parameters are passed.",
      "PvsDiskLocator.ServerName: 'Name of the single Server that this Disk Locator is assigned to'; -Single/-All select single-server or all-servers-of-the-store locators.",
    ],
  },
  onDiskLocator("Get-PvsDiskVersion", [p("Version", "uint"), p("Type", "uint")], {
    returns: [{ type: "PvsDiskVersion[]" }],
    notes: [
      "Access: 0 (Production), 1 (Maintenance), 2 (MaintenanceHighestVersion), 3 (Override), 4 (Merge), 5 (MergeMaintenance), 6 (MergeTest), 7 (Test).",
      "Type (parameter): 1 = the Maintenance or MaintenanceHighestVersion version, 2 = the Test versions, 3 = the Override version.",
      "Type (field): 0 (Base), 1 (Manual), 2 (Automatic), 3 (Merge), 4 (MergeBase).",
    ],
  }, { tail: "Fields" }),
  onDiskLocator("Get-PvsMaintenanceVersionExists", [], { returns: [{ type: "Boolean" }] }, { arrays: false, tail: "none" }),
  {
    name: "Import-PvsDisk",
    section: "## Import-PvsDisk",
    parameters: [
      p("Name", "string", { aliases: ["DiskLocatorName"], mandatory: true, maxLength: 52 }),
      p("ServerId", "Guid"),
      p("ServerName", "string"),
      p("Description", "string", { maxLength: 250 }),
      p("MenuText", "string", { maxLength: 64 }),
      p("Enabled", "SwitchParameter"),
      p("RebalanceEnabled", "SwitchParameter"),
      p("RebalanceTriggerPercent", "uint"),
      p("SubnetAffinity", "uint"),
      p("VHDX", "SwitchParameter"),
      p("SiteId", "Guid"),
      p("SiteName", "string"),
      p("StoreId", "Guid"),
      p("StoreName", "string"),
      PIPELINE_OBJECT,
      CONFIRM,
    ],
    resolutions: NAME_NEEDS_SITE_AND_STORE,
    returns: [{ type: "PvsDiskLocator" }],
    notes: ["Import a Disk. It will add a Disk Locator for the Disk to the Site. A manifest file must exist in the Store.", "ServerName: 'Name of the single Server that this Disk Locator is assigned to'."],
  },
  onDiskLocator("Invoke-PvsPromoteDiskVersion", [p("ScheduledDate", "DateTime"), p("TestVersion", "uint"), p("Test", "SwitchParameter")], {
    notes: ["Promotes the Maintenance version or a Test version to a Test or new Production version; -Test sets the Maintenance version to Test."],
  }),
  onDiskLocator("Invoke-PvsRevertDiskVersion", [p("Version", "uint"), p("Test", "SwitchParameter")], {
    notes: ["Sets the highest version to Maintenance (or Test with -Test); -Version reverts that version to Test when no higher Production version exists."],
  }),
  onDiskLocator("Merge-PvsDisk", [p("Access", "uint"), p("NewBase", "SwitchParameter")], {
    notes: ["Access after the merge: 0 (Production), 1 (Test), 2 (Maintenance); default from the Farm MergeMode."],
  }),
  {
    name: "New-PvsDevice",
    section: "## New-PvsDevice",
    parameters: [
      p("Name", "string", { aliases: ["DeviceName"], mandatory: true, maxLength: 15 }),
      p("CollectionId", "Guid"),
      p("CollectionName", "string"),
      p("SiteId", "Guid"),
      p("SiteName", "string"),
      p("DeviceMac", "PvsPhysicalAddress", { mandatory: true }),
      p("Disabled", "SwitchParameter"),
      p("LocalDiskEnabled", "SwitchParameter"),
      p("CopyTemplate", "SwitchParameter"),
      p("VirtualHostingPoolId", "Guid"),
      p("HypVmId", "string"),
      p("BdmBoot", "SwitchParameter"),
      ...DEVICE_FIELDS_COMMON,
      CONFIRM,
    ],
    requiredOneOf: [["CollectionId", "CollectionName"]],
    resolutions: { CollectionName: [SITE] },
    returns: [{ type: "PvsDevice" }],
    notes: ["All parameters that do not have a Default are required, unless only a few of a group are required: Name and DeviceMac have none."],
  },
  {
    name: "New-PvsDiskLocator",
    section: "## New-PvsDiskLocator",
    parameters: [
      p("Name", "string", { aliases: ["DiskLocatorName"], mandatory: true, maxLength: 52 }),
      p("SiteId", "Guid"),
      p("SiteName", "string"),
      p("StoreId", "Guid"),
      p("StoreName", "string"),
      p("Description", "string", { maxLength: 250 }),
      p("MenuText", "string", { maxLength: 64 }),
      p("ServerId", "Guid"),
      p("ServerName", "string"),
      p("Disabled", "SwitchParameter"),
      p("RebalanceEnabled", "SwitchParameter"),
      p("RebalanceTriggerPercent", "uint"),
      p("SubnetAffinity", "uint"),
      p("NewDiskWriteCacheType", "string"),
      p("VHDX", "SwitchParameter"),
      CONFIRM,
    ],
    requiredOneOf: [SITE, STORE],
    returns: [{ type: "PvsDiskLocator" }],
    notes: [
      "Create a new Disk Locator for a Site. The Disk file must already exist.",
      "ServerId/ServerName: the single Server the locator is assigned to; Default 00000000-0000-0000-0000-000000000000 / \"\" (none).",
      "-VHDX: the image that has never been added to the Farm is VHDX, otherwise VHD is assumed.",
    ],
  },
  onDiskLocator("New-PvsDiskMaintenanceVersion", [], { returns: [{ type: "PvsDiskVersion" }] }, { arrays: false }),
  {
    name: "Remove-PvsDevice",
    section: "## Remove-PvsDevice",
    parameters: [
      p("Guid", "Guid[]", { aliases: ["DeviceId"] }),
      p("Name", "string[]", { aliases: ["DeviceName"] }),
      p("DeviceMac", "PvsPhysicalAddress[]"),
      p("CollectionId", "Guid[]"),
      p("CollectionName", "string[]"),
      p("SiteId", "Guid[]"),
      p("SiteName", "string[]"),
      PIPELINE_OBJECT,
      CONFIRM,
    ],
    requiredOneOf: [["Guid", "Name", "DeviceMac", "CollectionId", "CollectionName"]],
    resolutions: { CollectionName: [SITE] },
  },
  {
    name: "Remove-PvsDiskLocator",
    section: "## Remove-PvsDiskLocator",
    parameters: [
      p("Guid", "Guid[]", { aliases: ["DiskLocatorId"] }),
      p("Name", "string[]", { aliases: ["DiskLocatorName"] }),
      p("StoreId", "Guid[]"),
      p("StoreName", "string[]"),
      p("DeleteDiskFile", "SwitchParameter"),
      p("SiteId", "Guid[]"),
      p("SiteName", "string[]"),
      PIPELINE_OBJECT,
      CONFIRM,
    ],
    requiredOneOf: [["Guid", "Name", "StoreId", "StoreName"]],
    resolutions: NAME_NEEDS_SITE_AND_STORE,
    notes: ["StoreId/StoreName alone delete all DiskLocators of the Store.", "-DeleteDiskFile deletes the Disk File too."],
  },
  onDiskLocator("Remove-PvsDiskVersion", [p("Version", "uint")], {
    notes: ["Removes the latest version, or (-Version) one no longer needed after a merge, if no Devices are booted from it."],
  }),
  setCmdlet("Set-PvsConnection", "Connection", "PvsConnection", [
    p("Name", "string", { aliases: ["Server"] }),
    p("Port", "string"),
    p("User", "string"),
    p("Domain", "string"),
    p("Password", "string"),
    p("Persist", "string"),
  ], { notes: ["Defaults: Server=localhost, Port=54321."] }),
  setCmdlet(
    "Set-PvsDevice",
    "Device",
    "PvsDevice",
    [
      p("Guid", "Guid", { aliases: ["DeviceId"] }),
      p("Name", "string", { aliases: ["DeviceName"] }),
      p("DeviceMac", "PvsPhysicalAddress"),
      p("CollectionId", "Guid"),
      p("SiteViewId", "Guid"),
      p("FarmViewId", "Guid"),
      p("FarmViewName", "string"),
      p("CollectionName", "string"),
      p("SiteViewName", "string"),
      p("SiteId", "Guid"),
      p("SiteName", "string"),
      p("NewName", "string", { maxLength: 15 }),
      p("Enabled", "bool"),
      p("LocalDiskEnabled", "bool"),
      p("BdmBoot", "bool"),
      ...DEVICE_FIELDS_COMMON,
    ],
    {
      requiredOneOf: [["Guid", "Name", "DeviceMac", "CollectionId", "SiteViewId", "FarmViewId", "FarmViewName", "CollectionName", "SiteViewName"]],
      resolutions: { CollectionName: [SITE], SiteViewName: [SITE] },
      notes: [
        "Type: 1 when it performs test of Disks, 2 when it performs maintenance on Disks, 3 Personal vDisk, 4 Personal vDisk and tests, 0 otherwise; a Device with type 0 - 3 can only be Set to 0 - 3.",
      ],
    },
  ),
  setCmdlet("Set-PvsDisk", "Disk", "PvsDisk", [...diskLocator(false), ...DISK_FIELDS], {
    requiredOneOf: [["Guid", "Name"]],
    resolutions: NAME_NEEDS_SITE_AND_STORE,
    notes: ["WriteCacheType: 0 (Private), 1 (Cache on Server), 3 (Cache in Device RAM), 4 (Cache on Device Hard Disk), 7 (Cache on Server, Persistent), 9 (Cache in Device RAM with Overflow on Hard Disk), 10, 11, 12 (async variants)."],
  }),
  setCmdlet(
    "Set-PvsDiskLocator",
    "DiskLocator",
    "PvsDiskLocator",
    [
      ...diskLocator(false),
      p("Description", "string", { maxLength: 250 }),
      p("MenuText", "string", { maxLength: 64 }),
      p("ServerId", "Guid"),
      p("ServerName", "string"),
      p("Enabled", "bool"),
      p("RebalanceEnabled", "bool"),
      p("RebalanceTriggerPercent", "uint"),
      p("SubnetAffinity", "uint"),
    ],
    { requiredOneOf: [["Guid", "Name"]], resolutions: NAME_NEEDS_SITE_AND_STORE },
  ),
  setCmdlet(
    "Set-PvsDiskVersion",
    "DiskVersion",
    "PvsDiskVersion",
    [...diskLocator(false), p("Version", "uint", { mandatory: true }), p("Description", "string", { maxLength: 250 }), p("ScheduledDate", "DateTime")],
    { requiredOneOf: [["Guid", "Name"]], resolutions: NAME_NEEDS_SITE_AND_STORE },
  ),
  onDiskLocator("Set-PvsOverrideVersion", [p("Version", "uint")], {
    notes: ["Version: the version all Production Devices boot; without it an existing Override is cleared."],
  }),
  setCmdlet(
    "Set-PvsServerBootstrap",
    "ServerBootstrap",
    "PvsServerBootstrap",
    [
      p("Guid", "Guid", { aliases: ["ServerId"] }),
      p("ServerName", "string"),
      p("Name", "string", { mandatory: true }),
      ...BOOTSERVERS,
      p("VerboseMode", "bool"),
      p("InterruptSafeMode", "bool"),
      p("PaeMode", "bool"),
      p("BootFromHdOnFail", "bool"),
      p("RecoveryTime", "uint"),
      p("PollingTimeout", "uint"),
      p("GeneralTimeout", "uint"),
    ],
    { requiredOneOf: [["Guid", "ServerName"]], notes: ["Name: the bootstrap file. Bootserver ports: Min=1025, Max=65536, Default=6910."] },
  ),
];

/** Error codes of docs/error-codes.md the stub raises for calls the snap-in refuses itself. */
export const PVS_REFUSAL_ERROR_CODES = {
  RequiredParametersMissing: { code: 11, message: "The required [v1] or [v2] parameter is missing." },
  FollowingParametersMissing: { code: 30, message: "To use the [v1] parameter, [v2] or [v3] must also be used." },
  ServerTimeout: { code: 97, message: "Server did not respond to a request in time." },
} as const;

export function cmdletSpec(name: string): CmdletSpec {
  const spec = PVS_CMDLETS.find((c) => c.name === name);
  if (!spec) throw new RangeError(`no PVS cmdlet ${name} in the table (test/support/pvs-cmdlets.ts)`);
  return spec;
}
