import type { Hardware } from "../recipe/model.ts";
import { DEFAULT_HARDWARE } from "../recipe/normalize.ts";
import type { VmSpec } from "./driver.ts";

/** The VM a recipe's hardware asks for, with the model's documented defaults filled in. */
export function vmSpecFor(name: string, hardware: Hardware | undefined, disk: VmSpec["disk"]): VmSpec {
  const hw = { ...DEFAULT_HARDWARE, ...hardware };
  return { name, cpus: hw.cpus, memoryMiB: hw.memoryMiB, diskGiB: hw.diskGiB, firmware: hw.firmware, secureBoot: hw.secureBoot, tpm: hw.tpm, disk };
}
