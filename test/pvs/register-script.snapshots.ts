/** The PVS registration script's snapshots, one per access mode. */
import { fileURLToPath } from "node:url";
import { registerVdiskScript, type RegisterVdiskRequest } from "../../src/pvs/register-script.ts";
import type { Snapshot } from "../support/snapshot.ts";

export const BASE: RegisterVdiskRequest = {
  connectionServer: "pvs01.corp.example",
  port: 54321,
  vdiskName: "ws2022-apps-3.2.0",
  storeName: "Store-HQ",
  siteName: "HQ",
  serverName: "pvs01.corp.example",
  description: "ws2022-pvs 3.2.0 (build 20250101)",
  writeCacheType: "device-ram-with-overflow-on-disk",
  writeCacheSizeMiB: 4096,
  accessMode: "production",
};

export const ACCESS_MODES = ["maintenance", "test", "production"] as const;

export const registerSnapshot = (accessMode: (typeof ACCESS_MODES)[number]): Snapshot => ({
  file: fileURLToPath(new URL(`./snapshots/register-${accessMode}.ps1`, import.meta.url)),
  produce: () => registerVdiskScript({ ...BASE, accessMode }),
});

export const SNAPSHOTS: readonly Snapshot[] = ACCESS_MODES.map(registerSnapshot);
