/** Recipe defaults the answer files depend on; each matches the @default in src/recipe/model.ts. */
import type { Firmware, ToolsKind } from "../recipe/model.ts";

/** The local QEMU driver is the default hypervisor, so without tools the QEMU agent is installed. */
export const DEFAULT_TOOLS_KIND: ToolsKind = "qemu-guest-agent";

/** Hardware.firmware's default. */
export const DEFAULT_FIRMWARE: Firmware = "uefi";
