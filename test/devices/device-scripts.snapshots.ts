/** The PVS device scripts' snapshots: create and delete one target device. */
import { fileURLToPath } from "node:url";
import { createDeviceScript, deleteDeviceScript } from "../../src/devices/device-script.ts";
import type { Snapshot } from "../support/snapshot.ts";

export const REQUEST = { connectionServer: "pvs01.corp.example", port: 54321, mac: "00-15-5D-01-02-03", deviceName: "HQ-TC-001", collectionName: "WS2022-Apps", siteName: "HQ", diskLocatorName: "ws2022-apps-3.0.2", storeName: "Store-HQ" };

const file = (name: string) => fileURLToPath(new URL(`./snapshots/${name}`, import.meta.url));
export const CREATE_DEVICE: Snapshot = { file: file("create-device.ps1"), produce: () => createDeviceScript(REQUEST) };
export const DELETE_DEVICE: Snapshot = { file: file("delete-device.ps1"), produce: () => deleteDeviceScript(REQUEST) };

export const SNAPSHOTS: readonly Snapshot[] = [CREATE_DEVICE, DELETE_DEVICE];
