/**
 * The Citrix.PVS.SnapIn stub module: every cmdlet of the PVS table (pvs-cmdlets.ts) plus the
 * Add-PSSnapin the generated scripts start with, which only Windows PowerShell 5.1 has.
 */
import type { CmdletSpec } from "./cmdlet-spec.ts";
import type { StubModuleSpec } from "./powershell-stub.ts";
import { PVS_CMDLETS, PVS_REFERENCE, PVS_REFUSAL_ERROR_CODES } from "./pvs-cmdlets.ts";

/** Add-PSSnapin [-Name] <String[]> [-PassThru]; PowerShell 6 and later have no snap-ins. */
export const ADD_PSSNAPIN: CmdletSpec = {
  name: "Add-PSSnapin",
  section: "https://learn.microsoft.com/en-gb/previous-versions/powershell/module/microsoft.powershell.core/add-pssnapin?view=powershell-5.0",
  parameters: [
    { name: "Name", type: "string[]", mandatory: true, position: 0 },
    { name: "PassThru", type: "SwitchParameter" },
  ],
};

export const PVS_STUB_MODULE: StubModuleSpec = {
  name: "Citrix.PVS.SnapIn",
  source: `${PVS_REFERENCE.repo} ${PVS_REFERENCE.path}@${PVS_REFERENCE.commit}`,
  cmdlets: [ADD_PSSNAPIN, ...PVS_CMDLETS],
  refusals: { groupMissing: PVS_REFUSAL_ERROR_CODES.RequiredParametersMissing, resolutionMissing: PVS_REFUSAL_ERROR_CODES.FollowingParametersMissing },
};
