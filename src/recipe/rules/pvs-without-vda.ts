import { perRecipe } from "./report.ts";

/** PVS can stream non-Citrix servers too, so a missing VDA is only a warning. */
export const pvsWithoutVda = perRecipe(
  { id: "pvs-without-vda", severity: "warning", description: "a PVS image without a VDA streams but cannot host Citrix sessions" },
  function* (doc) {
    if (doc.value.target.kind !== "pvs" || doc.value.vda !== undefined) return;
    yield {
      pointer: "/target/kind",
      message: "this PVS image has no VDA: it streams, but its machines cannot host Citrix sessions; fine for non-Citrix servers",
      got: "pvs without vda",
      hint: "add a vda block if the machines serve Citrix sessions",
    };
  },
);
