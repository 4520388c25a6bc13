/**
 * The parameters of the Citrix SDK cmdlets the MCS publish script calls, from Citrix's published
 * cmdlet reference (citrix/delivery-controller-sdk, one file per cmdlet, named beside each entry):
 * the Syntax blocks give the parameter sets, the Parameters tables give Required? and the types.
 * Facts only, in the shared cmdlet type (test/support/cmdlet-spec.ts); the stub module
 * (test/support/mcs-stub.ts) is generated from this table by test/support/powershell-stub.ts.
 * A parameter's `sets` are the syntax blocks it appears in, `mandatory` where it is required in
 * each of them. Enum types of the Broker SDK (AllocationType, ProvisioningType, ...) are declared
 * [string] in the stubs: their values are not all listed in the reference. The catalog piped into
 * Start-BrokerRebootCycle is declared `object` (one catalog per pipeline item).
 */

import type { CmdletParameter, CmdletSpec } from "../support/cmdlet-spec.ts";

const BY_NAME_WITH_IMAGE = "ByNameWithImage";
const BY_NAME = "ByName";
const BY_UID_WITH_IMAGE = "ByUidWithImage";
const BY_UID = "ByUid";
const IMAGE_SETS = [BY_NAME_WITH_IMAGE, BY_UID_WITH_IMAGE];

/** The filtering parameters every MachineCreation Get- cmdlet has ("See about_Prov_Filtering"), and AdminAddress. */
const PROV_FILTERING: readonly CmdletParameter[] = [
  { name: "ReturnTotalRecordCount", type: "SwitchParameter" },
  { name: "MaxRecordCount", type: "int" },
  { name: "Skip", type: "int" },
  { name: "SortBy", type: "string" },
  { name: "Filter", type: "string" },
  { name: "AdminAddress", type: "string" },
];

export const MCS_CMDLETS: readonly CmdletSpec[] = [
  {
    name: "Publish-ProvMasterVMImage",
    section: "citrix/delivery-controller-sdk docs/MachineCreation/Publish-ProvMasterVMImage.md (four syntax blocks)",
    defaultSet: BY_NAME_WITH_IMAGE,
    parameters: [
      { name: "ProvisioningSchemeName", type: "string", sets: [BY_NAME_WITH_IMAGE, BY_NAME], mandatory: true, position: 0 },
      { name: "ProvisioningSchemeUid", type: "Guid", sets: [BY_UID_WITH_IMAGE, BY_UID], mandatory: true },
      { name: "MasterImageVM", type: "string", sets: [BY_NAME_WITH_IMAGE, BY_UID_WITH_IMAGE], mandatory: true },
      { name: "VhdTemplateSource", type: "string", sets: IMAGE_SETS },
      { name: "VhdResultDestination", type: "string", sets: IMAGE_SETS },
      { name: "AppScanResultsFile", type: "string", sets: IMAGE_SETS },
      { name: "FunctionalLevel", type: "string", sets: IMAGE_SETS },
      { name: "RunAsynchronously", type: "SwitchParameter", sets: IMAGE_SETS },
      { name: "PurgeJobOnSuccess", type: "SwitchParameter", sets: IMAGE_SETS },
      { name: "DoNotStoreOldImage", type: "SwitchParameter" },
      { name: "LoggingId", type: "Guid" },
      { name: "BearerToken", type: "string" },
      { name: "AdminAddress", type: "string" },
    ],
    // Return Values: "System.Guid: When RunAsynchronously is specified ... the task identifier", else a PSCustomObject of the task.
    returns: [
      { type: "Guid", when: "RunAsynchronously" },
      { type: "PSCustomObject" },
    ],
  },
  {
    name: "Get-ProvTask",
    section: "citrix/delivery-controller-sdk docs/MachineCreation/Get-ProvTask.md",
    // Its Return Values section is empty: the type of the task objects is not given.
    parameters: [
      { name: "TaskId", type: "Guid", position: 0 },
      { name: "Type", type: "string" },
      { name: "Active", type: "bool" },
      { name: "Metadata", type: "string" },
      { name: "Property", type: "string[]" },
      ...PROV_FILTERING,
    ],
  },
  {
    name: "Get-ProvScheme",
    section: "citrix/delivery-controller-sdk docs/MachineCreation/Get-ProvScheme.md (one syntax block)",
    // Return Values: Citrix.MachineCreation.Sdk.ProvisioningScheme, whose MasterImageVM is a string; the type itself is not published.
    parameters: [
      { name: "ProvisioningSchemeName", type: "string", position: 0 },
      { name: "ProvisioningSchemeUid", type: "Guid" },
      { name: "ScopeId", type: "Guid" },
      { name: "ScopeName", type: "string" },
      ...PROV_FILTERING,
    ],
  },
  {
    name: "Get-BrokerCatalog",
    section: "citrix/delivery-controller-sdk docs/Broker/Get-BrokerCatalog.md (Uid set and the filter set)",
    defaultSet: "Filter",
    parameters: [
      { name: "Uid", type: "int", sets: ["Uid"], mandatory: true, position: 0 },
      { name: "Name", type: "string", sets: ["Filter"], position: 0 },
      ...["AllocationType", "AppDnaAnalysisState", "Description", "Metadata", "MinimumFunctionalLevel", "PersistUserChanges", "ProvisioningType", "PvsAddress", "PvsDomain", "ScopeName", "SessionSupport", "ZoneName", "SortBy", "Filter"].map(
        (name): CmdletParameter => ({ name, type: "string", sets: ["Filter"] }),
      ),
      ...["AssignedCount", "AvailableAssignedCount", "AvailableCount", "AvailableUnassignedCount", "HypervisorConnectionUid", "RemotePCDesktopGroupPriority", "RemotePCDesktopGroupUid", "RemotePCHypervisorConnectionUid", "UnassignedCount", "UsedCount", "MachineUid", "MaxRecordCount", "Skip"].map(
        (name): CmdletParameter => ({ name, type: "int", sets: ["Filter"] }),
      ),
      ...["IsRemotePC", "MachinesArePhysical"].map((name): CmdletParameter => ({ name, type: "bool", sets: ["Filter"] })),
      ...["ProvisioningSchemeId", "ScopeId", "TenantId", "UUID", "ZoneUid"].map((name): CmdletParameter => ({ name, type: "Guid", sets: ["Filter"] })),
      { name: "ReturnTotalRecordCount", type: "SwitchParameter", sets: ["Filter"] },
      { name: "Property", type: "string[]" },
      { name: "AdminAddress", type: "string" },
    ],
  },
  {
    name: "Start-BrokerRebootCycle",
    section: "citrix/delivery-controller-sdk docs/Broker/Start-BrokerRebootCycle.md",
    parameters: [
      { name: "InputObject", type: "object", sets: ["Default"], mandatory: true, position: 0, pipeline: true },
      { name: "RebootDuration", type: "int", sets: ["Default"], mandatory: true },
      { name: "WarningDuration", type: "int" },
      { name: "WarningTitle", type: "string" },
      { name: "WarningMessage", type: "string" },
      { name: "WarningRepeatInterval", type: "int" },
      { name: "LoggingId", type: "Guid" },
      { name: "AdminAddress", type: "string" },
    ],
    // Return Values: none.
    returns: [],
  },
];
