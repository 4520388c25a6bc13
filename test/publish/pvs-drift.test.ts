/** The drift between a PVS stack's pin and what PVS has registered, case by case. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pvsDriftOf, pvsPinOf, type PvsPin } from "../../src/publish/pvs-drift.ts";
import type { RegisteredInSite, RegisteredVersion } from "../../src/pvs/served-script.ts";
import type { BuildManifest } from "../../src/manifest/model.ts";
import type { VersionRecord } from "../../src/distribute/version-record.ts";

const v = (...list: [number, number][]): RegisteredVersion[] => list.map(([version, access]) => ({ version, access }));
const site = (vdisks: Record<string, RegisteredVersion[]>, siteName = "HQ"): RegisteredInSite => ({ siteName, storeName: "Store-HQ", vdisks: Object.entries(vdisks).map(([name, versions]) => ({ name, versions })) });
const FULL = "ws2022-apps-3.2.0";

const cases: { name: string; pin: PvsPin; sites: RegisteredInSite[]; drift: string[] }[] = [
  { name: "a full vDisk in production: its base is Production", pin: { vdisk: FULL, accessMode: "production" }, sites: [site({ [FULL]: v([0, 0]) })], drift: [] },
  { name: "a full vDisk for test: its maintenance version was promoted to Test", pin: { vdisk: FULL, accessMode: "test" }, sites: [site({ [FULL]: v([0, 0], [1, 7]) })], drift: [] },
  { name: "a full vDisk for dev: MaintenanceHighestVersion counts as Maintenance", pin: { vdisk: FULL, accessMode: "maintenance" }, sites: [site({ [FULL]: v([0, 0], [1, 2]) })], drift: [] },
  {
    name: "a full vDisk for test whose version is still in Maintenance",
    pin: { vdisk: FULL, accessMode: "test" },
    sites: [site({ [FULL]: v([0, 0], [1, 1]) })],
    drift: [`site HQ: PVS vDisk ${FULL} has no Test version (accessMode test); its versions: 0 Production, 1 Maintenance`],
  },
  {
    name: "the pinned vDisk is not registered at one site (another vDisk is)",
    pin: { vdisk: FULL, accessMode: "production" },
    sites: [site({ [FULL]: v([0, 0]) }), site({ "ws2022-apps-3.0.2": v([0, 0]) }, "Lyon")],
    drift: [`site Lyon: PVS has no vDisk ${FULL} in store Store-HQ`],
  },
  { name: "a site PVS would not list is not drift", pin: { vdisk: FULL, accessMode: "production" }, sites: [{ siteName: "HQ", storeName: "Store-HQ", error: "Server did not respond to a request in time." }], drift: [] },
  { name: "a vDisk version at its stack's access", pin: { vdisk: "ws2022", version: 2, accessMode: "test" }, sites: [site({ ws2022: v([0, 0], [1, 0], [2, 7]) })], drift: [] },
  {
    name: "a vDisk version PVS has not added",
    pin: { vdisk: "ws2022", version: 3, accessMode: "maintenance" },
    sites: [site({ ws2022: v([0, 0], [1, 0], [2, 7]) })],
    drift: ["site HQ: PVS vDisk ws2022 has no version 3; its versions: 0 Production, 1 Production, 2 Test"],
  },
  {
    name: "a vDisk version promoted past its stack (Production in dev)",
    pin: { vdisk: "ws2022", version: 2, accessMode: "maintenance" },
    sites: [site({ ws2022: v([0, 0], [1, 0], [2, 0]) })],
    drift: ["site HQ: PVS vDisk ws2022 version 2 is Production, not Maintenance (accessMode maintenance)"],
  },
  {
    name: "production rolled back in the pin but a higher version is still Production",
    pin: { vdisk: "ws2022", version: 1, accessMode: "production" },
    sites: [site({ ws2022: v([0, 0], [1, 0], [2, 0], [3, 7]) })],
    drift: ["site HQ: PVS vDisk ws2022 version 2 is also Production, so production devices boot it instead of the pinned 1"],
  },
  { name: "production with a higher Test version is no drift", pin: { vdisk: "ws2022", version: 1, accessMode: "production" }, sites: [site({ ws2022: v([0, 0], [1, 0], [2, 7]) })], drift: [] },
  {
    name: "an access code rebake never sets is named as the reference names it",
    pin: { vdisk: "ws2022", version: 1, accessMode: "test" },
    sites: [site({ ws2022: v([0, 0], [1, 4]) })],
    drift: ["site HQ: PVS vDisk ws2022 version 1 is Merge, not Test (accessMode test)"],
  },
];

for (const c of cases) {
  test(`PVS drift: ${c.name}`, () => {
    assert.deepEqual(pvsDriftOf(c.pin, c.sites), c.drift);
  });
}

const VHDX = { kind: "vhdx", path: "ws2022-apps.vhdx", size: 1, sha256: "0" } as const;
const manifest = (outputs: BuildManifest["outputs"]) => ({ recipe: { version: "3.2.0" }, outputs }) as unknown as BuildManifest;
const pinCases: { name: string; manifest: BuildManifest; record?: Pick<VersionRecord, "vdisk" | "number">; pin: PvsPin | undefined }[] = [
  { name: "a full vDisk is named <artifact>-<recipe version>", manifest: manifest([VHDX]), pin: { vdisk: FULL, accessMode: "test" } },
  { name: "a vDisk version is its record's locator and number", manifest: manifest([VHDX]), record: { vdisk: "ws2022", number: 4 }, pin: { vdisk: "ws2022", version: 4, accessMode: "test" } },
  { name: "a build without a VHDX pins no vDisk", manifest: manifest([]), pin: undefined },
];
for (const c of pinCases) {
  test(`PVS pin: ${c.name}`, () => {
    assert.deepEqual(pvsPinOf(c.manifest, c.record as VersionRecord | undefined, "test"), c.pin);
  });
}
