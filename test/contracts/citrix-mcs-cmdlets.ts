/**
 * The parameters of the Citrix SDK cmdlets the MCS publish script calls, from Citrix's published
 * cmdlet reference (citrix/delivery-controller-sdk, one file per cmdlet, named beside each entry):
 * the Syntax blocks give the parameter sets, the Parameters tables give Required? and the types.
 * Facts only; the stub module (test/support/citrix-stub-module.ts) is generated from this table.
 * Enum types of the Broker SDK (AllocationType, ProvisioningType, ...) are declared [string] in
 * the stubs: their values are not all listed in the reference.
 */

export interface CmdletParameter {
  readonly name: string;
  /** The PowerShell type the stub declares. */
  readonly type: "string" | "string[]" | "int" | "bool" | "guid" | "switch" | "object";
  /** Parameter set -> mandatory in it; a parameter in no set belongs to all. */
  readonly sets?: Readonly<Record<string, boolean>>;
  readonly position?: number;
  readonly valueFromPipeline?: boolean;
}

export interface CmdletSpec {
  readonly name: string;
  /** Where the facts come from. */
  readonly source: string;
  readonly defaultSet?: string;
  readonly parameters: readonly CmdletParameter[];
}

const BY_NAME_WITH_IMAGE = "ByNameWithImage";
const BY_NAME = "ByName";
const BY_UID_WITH_IMAGE = "ByUidWithImage";
const BY_UID = "ByUid";
const IMAGE_SETS = { [BY_NAME_WITH_IMAGE]: false, [BY_UID_WITH_IMAGE]: false } as const;

export const MCS_CMDLETS: readonly CmdletSpec[] = [
  {
    name: "Publish-ProvMasterVMImage",
    source: "citrix/delivery-controller-sdk docs/MachineCreation/Publish-ProvMasterVMImage.md (four syntax blocks)",
    defaultSet: BY_NAME_WITH_IMAGE,
    parameters: [
      { name: "ProvisioningSchemeName", type: "string", sets: { [BY_NAME_WITH_IMAGE]: true, [BY_NAME]: true }, position: 0 },
      { name: "ProvisioningSchemeUid", type: "guid", sets: { [BY_UID_WITH_IMAGE]: true, [BY_UID]: true } },
      { name: "MasterImageVM", type: "string", sets: { [BY_NAME_WITH_IMAGE]: true, [BY_UID_WITH_IMAGE]: true } },
      { name: "VhdTemplateSource", type: "string", sets: IMAGE_SETS },
      { name: "VhdResultDestination", type: "string", sets: IMAGE_SETS },
      { name: "AppScanResultsFile", type: "string", sets: IMAGE_SETS },
      { name: "FunctionalLevel", type: "string", sets: IMAGE_SETS },
      { name: "RunAsynchronously", type: "switch", sets: IMAGE_SETS },
      { name: "PurgeJobOnSuccess", type: "switch", sets: IMAGE_SETS },
      { name: "DoNotStoreOldImage", type: "switch" },
      { name: "LoggingId", type: "guid" },
      { name: "BearerToken", type: "string" },
      { name: "AdminAddress", type: "string" },
    ],
  },
  {
    name: "Get-ProvTask",
    source: "citrix/delivery-controller-sdk docs/MachineCreation/Get-ProvTask.md",
    parameters: [
      { name: "TaskId", type: "guid", position: 0 },
      { name: "Type", type: "string" },
      { name: "Active", type: "bool" },
      { name: "Metadata", type: "string" },
      { name: "Property", type: "string[]" },
      { name: "ReturnTotalRecordCount", type: "switch" },
      { name: "MaxRecordCount", type: "int" },
      { name: "Skip", type: "int" },
      { name: "SortBy", type: "string" },
      { name: "Filter", type: "string" },
      { name: "AdminAddress", type: "string" },
    ],
  },
  {
    name: "Get-BrokerCatalog",
    source: "citrix/delivery-controller-sdk docs/Broker/Get-BrokerCatalog.md (Uid set and the filter set)",
    defaultSet: "Filter",
    parameters: [
      { name: "Uid", type: "int", sets: { Uid: true }, position: 0 },
      { name: "Name", type: "string", sets: { Filter: false }, position: 0 },
      ...["AllocationType", "AppDnaAnalysisState", "Description", "Metadata", "MinimumFunctionalLevel", "PersistUserChanges", "ProvisioningType", "PvsAddress", "PvsDomain", "ScopeName", "SessionSupport", "ZoneName", "SortBy", "Filter"].map(
        (name): CmdletParameter => ({ name, type: "string", sets: { Filter: false } }),
      ),
      ...["AssignedCount", "AvailableAssignedCount", "AvailableCount", "AvailableUnassignedCount", "HypervisorConnectionUid", "RemotePCDesktopGroupPriority", "RemotePCDesktopGroupUid", "RemotePCHypervisorConnectionUid", "UnassignedCount", "UsedCount", "MachineUid", "MaxRecordCount", "Skip"].map(
        (name): CmdletParameter => ({ name, type: "int", sets: { Filter: false } }),
      ),
      ...["IsRemotePC", "MachinesArePhysical"].map((name): CmdletParameter => ({ name, type: "bool", sets: { Filter: false } })),
      ...["ProvisioningSchemeId", "ScopeId", "TenantId", "UUID", "ZoneUid"].map((name): CmdletParameter => ({ name, type: "guid", sets: { Filter: false } })),
      { name: "ReturnTotalRecordCount", type: "switch", sets: { Filter: false } },
      { name: "Property", type: "string[]" },
      { name: "AdminAddress", type: "string" },
    ],
  },
  {
    name: "Start-BrokerRebootCycle",
    source: "citrix/delivery-controller-sdk docs/Broker/Start-BrokerRebootCycle.md",
    parameters: [
      { name: "InputObject", type: "object", sets: { Default: true }, position: 0, valueFromPipeline: true },
      { name: "RebootDuration", type: "int", sets: { Default: true } },
      { name: "WarningDuration", type: "int" },
      { name: "WarningTitle", type: "string" },
      { name: "WarningMessage", type: "string" },
      { name: "WarningRepeatInterval", type: "int" },
      { name: "LoggingId", type: "guid" },
      { name: "AdminAddress", type: "string" },
    ],
  },
];
