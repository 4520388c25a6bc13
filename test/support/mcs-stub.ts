/**
 * The stub module of the Citrix SDK cmdlets the MCS publish script calls: every cmdlet of the MCS
 * table (../contracts/citrix-mcs-cmdlets.ts) and Add-PSSnapin. None has a required group, so the
 * module needs no refusal error codes.
 */
import { MCS_CMDLETS } from "../contracts/citrix-mcs-cmdlets.ts";
import { ADD_PSSNAPIN } from "./add-pssnapin.ts";
import type { StubModuleSpec } from "./powershell-stub.ts";

export const MCS_STUB_MODULE: StubModuleSpec = {
  name: "Citrix.Mcs.Stub",
  source: "citrix/delivery-controller-sdk docs/MachineCreation and docs/Broker",
  cmdlets: [ADD_PSSNAPIN, ...MCS_CMDLETS],
};
