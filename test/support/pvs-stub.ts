/** The Citrix.PVS.SnapIn stub module: every cmdlet of the PVS table (pvs-cmdlets.ts) and Add-PSSnapin. */
import { ADD_PSSNAPIN } from "./add-pssnapin.ts";
import type { StubModuleSpec } from "./powershell-stub.ts";
import { PVS_CMDLETS, PVS_REFERENCE, PVS_REFUSAL_ERROR_CODES } from "./pvs-cmdlets.ts";

export const PVS_STUB_MODULE: StubModuleSpec = {
  name: "Citrix.PVS.SnapIn",
  source: `${PVS_REFERENCE.repo} ${PVS_REFERENCE.path}@${PVS_REFERENCE.commit}`,
  cmdlets: [ADD_PSSNAPIN, ...PVS_CMDLETS],
  refusals: { groupMissing: PVS_REFUSAL_ERROR_CODES.RequiredParametersMissing, resolutionMissing: PVS_REFUSAL_ERROR_CODES.FollowingParametersMissing },
};
