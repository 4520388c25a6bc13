import { perRecipe } from "./report.ts";

/** Secure boot is a UEFI feature. */
export const secureBootNeedsUefi = perRecipe(
  { id: "secure-boot-needs-uefi", severity: "error", description: "hardware.secureBoot needs hardware.firmware uefi" },
  function* (doc) {
    const hardware = doc.value.hardware;
    if (hardware?.secureBoot !== true || hardware.firmware !== "bios") return;
    yield {
      pointer: "/hardware/secureBoot",
      message: "secure boot is a UEFI feature; a BIOS VM cannot enable it",
      got: { firmware: "bios", secureBoot: true },
      hint: "set hardware.firmware: uefi (the default), or remove secureBoot",
    };
  },
);
