import { perRecipe } from "./report.ts";

/** An MCS image hosts Citrix sessions, so it carries the VDA. */
export const mcsNeedsVda = perRecipe(
  { id: "mcs-needs-vda", severity: "error", description: "an MCS image has a vda block" },
  function* (doc) {
    if (doc.value.target.kind !== "mcs" || doc.value.vda !== undefined) return;
    yield {
      pointer: "/target/kind",
      message: "an MCS master image needs the Citrix VDA: MCS machines register with the Delivery Controller through it, and it is installed after the apps, before the snapshot",
      got: "mcs without vda",
      hint: "add a vda block (version, installer, role: server | desktop)",
    };
  },
);
