/**
 * The hypervisor drivers a build can run on, chosen by `--driver`. QEMU is the local default;
 * each driver gets a short runtime directory (QEMU puts its sockets there).
 */
import type { HypervisorDriver } from "../hypervisors/driver.ts";
import { QemuDriver } from "../hypervisors/qemu/qemu-driver.ts";
import { UsageError } from "../cli/io.ts";

export const DRIVER_NAMES = ["qemu"] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];
export const DEFAULT_DRIVER: DriverName = "qemu";

export interface DriverOptions {
  readonly runtimeDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** The driver's notes (accelerator chosen, checkpoints), shown with the build's progress. */
  readonly log: (line: string) => void;
}

export function createDriver(name: string, options: DriverOptions): HypervisorDriver {
  switch (name) {
    case "qemu":
      return new QemuDriver({ runtimeDir: options.runtimeDir, env: options.env, log: options.log });
    default:
      throw new UsageError(`--driver must be one of ${DRIVER_NAMES.join(", ")}, got: '${name}'`);
  }
}
