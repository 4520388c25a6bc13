/** PVS devices under Pulumi mocks: one resource per row, keyed by MAC (the scripts run in pwsh: test/pvs/pvs-scripts-stub.test.ts). */
import * as pulumi from "@pulumi/pulumi";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { DeviceRow } from "../../src/devices/model.ts";
import type { PvsConfig } from "../../src/stacks/model.ts";
import { createRecordingExec } from "../../src/util/exec.ts";
import { recordingMocks, registrationsSettled } from "../support/pulumi-mocks.ts";

const { mocks, registered } = recordingMocks();
pulumi.runtime.setMocks(mocks, "rebake", "prod");
const { declareDevices, deviceInputs, DeviceArgsError } = await import("../../src/devices/device-provider.ts");
const { createDevice, deleteDevice, diffDevice } = await import("../../src/devices/device-resource.ts");
const { createDeviceScript, deleteDeviceScript } = await import("../../src/devices/device-script.ts");

const PVS: PvsConfig = {
  server: "pvs01.corp.example",
  port: 54321,
  executor: { kind: "ssh", host: "pvs01.corp.example", user: "svc-rebake", port: 22 },
  accessMode: "production",
  sites: [
    { name: "HQ", server: "pvs01.corp.example", collection: "WS2022-Apps", store: { name: "Store-HQ", location: "/mnt/hq" } },
    { name: "Branch-Lyon", server: "pvs-lyo01.corp.example", collection: "WS2022-Apps", store: { name: "Store-Lyon", location: "/mnt/lyon" } },
  ],
};
const VDISKS = { "ws2022-pvs": { HQ: "ws2022-apps-3.0.2", "Branch-Lyon": "ws2022-apps-3.0.2" } };

function row(n: number, site = "HQ"): DeviceRow {
  return { mac: `00-15-5D-00-00-${n.toString(16).padStart(2, "0").toUpperCase()}`, name: `TC-${n}`, collection: "WS2022-Apps", site, image: "ws2022-pvs", file: "d.csv", line: n + 1 };
}


async function declared(rows: DeviceRow[]): Promise<string[]> {
  registered.length = 0;
  declareDevices(rows, { pvs: PVS, vdisks: VDISKS });
  await registrationsSettled();
  return registered.filter((r) => r.type === "pulumi-nodejs:dynamic/rebake:PvsDevice").map((r) => r.name).sort();
}

describe("PVS devices from a manifest (mocks)", () => {
  const counts: [number, string[]][] = [
    [1, ["device-00155d000001"]],
    [5, ["device-00155d000001", "device-00155d000002", "device-00155d000003", "device-00155d000004", "device-00155d000005"]],
  ];
  for (const [count, names] of counts) {
    it(`${count} rows declare ${count} device resources, one per MAC`, async () => {
      assert.deepEqual(await declared(Array.from({ length: count }, (_, i) => row(i + 1))), names);
    });
  }

  it("an empty manifest declares no device, where the same recording sees the rows of a non-empty one", async () => {
    // The control: the recording does see devices, so seeing none below is the provider's doing.
    assert.deepEqual(await declared([row(1), row(2)]), ["device-00155d000001", "device-00155d000002"]);
    registered.length = 0;
    assert.deepEqual(declareDevices([], { pvs: PVS, vdisks: VDISKS }), []);
    await registrationsSettled();
    assert.deepEqual(registered, []);
  });

  it("names are keyed by MAC: adding a row adds one name, removing one removes one, order does not matter", async () => {
    const base = await declared([row(1), row(2), row(3)]);
    assert.deepEqual(base, ["device-00155d000001", "device-00155d000002", "device-00155d000003"]);
    assert.deepEqual(await declared([row(3), row(1), row(2), row(4)]), [...base, "device-00155d000004"]);
    assert.deepEqual(await declared([row(1), row(3)]), ["device-00155d000001", "device-00155d000003"]);
  });

  it("each device gets the site's store and the vDisk published there", () => {
    const [device] = deviceInputs([row(7, "Branch-Lyon")], { pvs: PVS, vdisks: VDISKS });
    assert.equal(device?.args.storeName, "Store-Lyon");
    assert.equal(device?.args.diskLocatorName, "ws2022-apps-3.0.2");
    assert.equal(device?.args.mac, "00-15-5D-00-00-07");
  });

  it("a row whose site or image the stack does not publish is refused with its file and line", () => {
    assert.throws(() => deviceInputs([row(1, "Paris"), { ...row(2), image: "win11-mcs" }], { pvs: PVS, vdisks: VDISKS }), (e: unknown) =>
      e instanceof DeviceArgsError && /d\.csv:2: site Paris/.test(e.message) && /d\.csv:3: image win11-mcs/.test(e.message));
  });
});

const REQUEST = { connectionServer: "pvs01.corp.example", port: 54321, mac: "00-15-5D-01-02-03", deviceName: "HQ-TC-001", collectionName: "WS2022-Apps", siteName: "HQ", diskLocatorName: "ws2022-apps-3.0.2", storeName: "Store-HQ" };

describe("PVS device scripts", () => {
  it("a name with a quote cannot break out of its literal", () => {
    assert.match(createDeviceScript({ ...REQUEST, deviceName: "A'; Remove-Item C:\\" }), /-Name 'A''; Remove-Item C:\\'/);
  });
});

describe("PVS device resource", () => {
  const inputs = { ...REQUEST, executor: { kind: "ssh" as const, host: "pvs01.corp.example", user: "svc-rebake", port: 22 } };

  it("create runs the script over SSH on stdin and reads the result line", async () => {
    const exec = createRecordingExec(() => ({ stdout: 'REBAKE-RESULT {"device":"HQ-TC-001","created":true}\r\n' }));
    const { id, outs } = await createDevice(inputs, exec);
    assert.equal(id, "HQ/00-15-5D-01-02-03");
    assert.equal(outs.created, true);
    assert.equal(exec.calls[0]?.command, "ssh");
    assert.equal(exec.calls[0]?.options?.input, createDeviceScript(REQUEST));
  });

  it("delete runs the delete script", async () => {
    const exec = createRecordingExec();
    await deleteDevice("HQ/00-15-5D-01-02-03", { ...inputs, created: true }, exec);
    assert.equal(exec.calls[0]?.options?.input, deleteDeviceScript(REQUEST));
  });

  const diffs: [string, Record<string, unknown>, { changes: boolean; replaces: string[] }][] = [
    ["nothing", {}, { changes: false, replaces: [] }],
    ["a new vDisk is an update", { diskLocatorName: "ws2022-apps-3.1.0" }, { changes: true, replaces: [] }],
    ["a new name replaces the device", { deviceName: "HQ-TC-009" }, { changes: true, replaces: ["deviceName"] }],
    ["a new collection replaces the device", { collectionName: "Pilot" }, { changes: true, replaces: ["collectionName"] }],
  ];
  for (const [name, change, expected] of diffs) {
    it(`diff: ${name}`, () => {
      const result = diffDevice({ ...inputs, created: true }, { ...inputs, ...change });
      assert.equal(result.changes, expected.changes);
      assert.deepEqual(result.replaces, expected.replaces);
    });
  }
});

const { declareStackDevices, DeviceManifestError } = await import("../../src/devices/stack-devices.ts");

describe("devices of a stack (mocks)", () => {
  const fixtures = fileURLToPath(new URL("../fixtures/devices/", import.meta.url));
  const stackWith = (devices: string) => ({
    stack: "prod", file: "stacks/Pulumi.prod.yaml", target: "pvs" as const, image: { recipe: "ws2022-pvs", version: "3.0.2", manifest: "m.json" }, hypervisor: { kind: "qemu" as const },
    pvs: { ...PVS, sites: PVS.sites.map((s, i) => (i === 0 ? { ...s, devices } : s)) },
  });

  it("a site's manifest rows become devices booting the vDisk published to that site", async () => {
    registered.length = 0;
    const devices = await declareStackDevices(fixtures, stackWith("hq.csv"), { HQ: "ws2022-apps-3.0.2", "Branch-Lyon": "ws2022-apps-3.0.2" });
    await registrationsSettled();
    assert.equal(devices.length, 3);
    const inputs = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/rebake:PvsDevice").map((r) => `${r.name} ${String(r.inputs.deviceName)} ${String(r.inputs.diskLocatorName)}`);
    assert.deepEqual(inputs.sort(), ["device-00155d010203 HQ-TC-001 ws2022-apps-3.0.2", "device-00155d010204 HQ-TC-002 ws2022-apps-3.0.2", "device-00155d010205 HQ-TC-003 ws2022-apps-3.0.2"]);
  });

  it("a manifest with problems stops the program, listing them", async () => {
    await assert.rejects(declareStackDevices(fixtures, stackWith("bad.csv"), { HQ: "x", "Branch-Lyon": "x" }), (e: unknown) => e instanceof DeviceManifestError && /bad\.csv:3:1 {2}device-mac-format/.test(e.message));
  });
});
