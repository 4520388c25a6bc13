/**
 * Add-PSSnapin, which every generated Citrix script starts with and only Windows PowerShell 5.1
 * has (PowerShell 6 and later load no snap-ins): each stub module declares it beside the vendor's
 * cmdlets so the scripts run in pwsh.
 */
import type { CmdletSpec } from "./cmdlet-spec.ts";

/** Add-PSSnapin [-Name] <String[]> [-PassThru]. */
export const ADD_PSSNAPIN: CmdletSpec = {
  name: "Add-PSSnapin",
  section: "https://learn.microsoft.com/en-gb/previous-versions/powershell/module/microsoft.powershell.core/add-pssnapin?view=powershell-5.0",
  parameters: [
    { name: "Name", type: "string[]", mandatory: true, position: 0 },
    { name: "PassThru", type: "SwitchParameter" },
  ],
};
