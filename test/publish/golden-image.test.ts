import * as pulumi from "@pulumi/pulumi";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseStack } from "../../src/stacks/load-stack.ts";
import type { BuildManifest } from "../../src/manifest/model.ts";
import { recordDependencies, recordingMocks, registrationsSettled } from "../support/pulumi-mocks.ts";

const { mocks, registered } = recordingMocks();
await pulumi.runtime.setMocks(mocks, "rebake", "prod");
const dependencies = recordDependencies();
const { GoldenImage } = await import("../../src/publish/golden-image.ts");
const { checkGoldenImageArgs } = await import("../../src/publish/golden-image-args.ts");

const MCS_STACK = (kind: "vsphere" | "xenorchestra") => `config:
  rebake:target: mcs
  rebake:image: {recipe: win11-mcs, version: 1.4.0}
  rebake:hypervisor: ${kind === "vsphere" ? "{kind: vsphere, server: vc.corp.example, datacenter: DC1, username: svc, password: env:VC_PASSWORD}" : "{kind: xenorchestra, url: https://xo.corp.example, token: env:XO_TOKEN}"}
  rebake:mcs:
    goldenVm: {name: W11-GOLD, uuid: 4212a1f2-6b9c-3e8d-1f0a-2b3c4d5e6f70}
    cvad: {url: https://api.cloud.com, customerId: corp, siteId: 0b4e9c9a-5d35-4b0a-8f15-9d0c4e7c1a11, token: env:CVAD_TOKEN}
    catalogs:
      - {name: W11-Pooled, id: 3f1b5a2e-8c7d-4e1f-9a6b-2d4c8e0f1a3b, hostingUnit: HU1, reboot: immediate}
      - {name: W11-Dedicated, id: 4f1b5a2e-8c7d-4e1f-9a6b-2d4c8e0f1a3b, hostingUnit: HU1, reboot: none}
`;

const MANIFEST: BuildManifest = {
  manifestVersion: 1, buildId: "b1", recipe: { name: "win11-mcs", version: "1.4.0", file: "/nonexistent", hash: "d".repeat(64) },
  target: "mcs", driver: "vsphere", started: "", finished: "", inputs: [], steps: [],
  outputs: [{ kind: "snapshot", name: "win11-mcs-1.4.0-b1", ref: "XDHyp:\\HostingUnits\\HU1\\win11-mcs-b1.vm\\layer-7.snapshot\\win11-mcs-1.4.0-b1.snapshot", placement: { resourcePools: [], snapshotChain: ["layer-7", "win11-mcs-1.4.0-b1"] }, vm: { name: "win11-mcs-b1", id: "/DC1/vm/win11-mcs-b1" } }], tools: {},
  timings: { totalMs: 0, inGuestMs: 0, bootMs: 0, captureMs: 0 }, warnings: [],
  verification: { passed: true, at: "", durationMs: 0, checks: [] },
};

describe("GoldenImage argument checks", () => {
  const stack = parseStack(MCS_STACK("vsphere"), "stacks/Pulumi.prod.yaml", "prod");
  const cases: { name: string; manifest: BuildManifest; problem: RegExp | undefined }[] = [
    { name: "accepts the pinned, verified version", manifest: MANIFEST, problem: undefined },
    { name: "refuses another version than the pin", manifest: { ...MANIFEST, recipe: { ...MANIFEST.recipe, version: "1.3.0" } }, problem: /pins win11-mcs 1\.4\.0 but the manifest .* is win11-mcs 1\.3\.0/ },
    { name: "refuses another target", manifest: { ...MANIFEST, target: "pvs" }, problem: /built for pvs but .* publishes to mcs/ },
    { name: "refuses an unverified version", manifest: { ...MANIFEST, verification: undefined } as BuildManifest, problem: /never verified/ },
    { name: "refuses a failed verification, naming the checks", manifest: { ...MANIFEST, verification: { passed: false, at: "", durationMs: 0, checks: [{ name: "vda-broker-agent", passed: false, durationMs: 1 }] } }, problem: /failed verification \(vda-broker-agent\)/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const problems = checkGoldenImageArgs({ stack, manifest: c.manifest, manifestDir: "/m" });
      if (c.problem) assert.match(problems.join("\n"), c.problem);
      else assert.deepEqual(problems, []);
    });
  }
});

describe("GoldenImage argument checks for PVS", () => {
  const stack = parseStack(`config:
  rebake:target: pvs
  rebake:image: {recipe: ws2022-pvs, version: 3.2.0}
  rebake:hypervisor: {kind: qemu}
  rebake:pvs:
    server: pvs01.corp.example
    executor: {kind: ssh, host: pvs01.corp.example, user: svc}
    accessMode: production
    sites:
      - {name: HQ, server: pvs01.corp.example, collection: Apps, store: {name: Store-HQ, location: /mnt/hq}}
`, "stacks/Pulumi.prod.yaml", "prod");
  const withVhdx = (path: string): BuildManifest => ({ ...MANIFEST, recipe: { ...MANIFEST.recipe, name: "ws2022-pvs", version: "3.2.0" }, target: "pvs", outputs: [{ kind: "vhdx", path, size: 1, sha256: "a".repeat(64) }] });
  const cases: [string, string, RegExp | undefined][] = [
    ["accepts a vDisk name PVS takes", "ws2022-apps.vhdx", undefined],
    ["refuses a vDisk name over PVS's 52 characters (New-PvsDiskLocator)", `${"a".repeat(47)}.vhdx`, /has 53 characters; PVS takes at most 52/],
  ];
  for (const [name, vhdx, problem] of cases) {
    it(name, () => {
      const problems = checkGoldenImageArgs({ stack, manifest: withVhdx(vhdx), manifestDir: "/m" });
      if (problem) assert.match(problems.join("\n"), problem);
      else assert.deepEqual(problems, []);
    });
  }
});

/** An image built outside rebake: its manifest has no snapshot, the stack names the golden VM. */
const EXTERNAL: BuildManifest = { ...MANIFEST, outputs: [] };

describe("GoldenImage for MCS (mocks)", () => {
  it("points every catalog at the snapshot the build took and verified, taking no other", async () => {
    registered.length = 0;
    const stack = parseStack(MCS_STACK("vsphere"), "stacks/Pulumi.prod.yaml", "prod");
    const image = new GoldenImage("win11-mcs", { stack, manifest: MANIFEST, manifestDir: "/m" });
    await registrationsSettled();
    assert.equal(registered.filter((r) => /Snapshot/.test(r.type)).length, 0);
    const catalogs = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/rebake:CatalogImage");
    assert.deepEqual(catalogs.map((c) => c.inputs.masterImagePath), [
      "XDHyp:\\HostingUnits\\HU1\\win11-mcs-b1.vm\\layer-7.snapshot\\win11-mcs-1.4.0-b1.snapshot",
      "XDHyp:\\HostingUnits\\HU1\\win11-mcs-b1.vm\\layer-7.snapshot\\win11-mcs-1.4.0-b1.snapshot",
    ]);
    assert.equal(Object.keys(image.published).length, 2);
  });

  it("refuses an image with no snapshot when the stack names no golden VM", () => {
    const stack = parseStack(MCS_STACK("vsphere").replace(/^ {4}goldenVm:.*\n/m, ""), "stacks/Pulumi.prod.yaml", "prod");
    assert.throws(() => new GoldenImage("win11-none", { stack, manifest: EXTERNAL, manifestDir: "/m" }), /has no snapshot and .* names no rebake:mcs.goldenVm/);
  });

  it("declares the vSphere snapshot of the stack's golden VM by type token for an image built elsewhere", async () => {
    registered.length = 0;
    const stack = parseStack(MCS_STACK("vsphere"), "stacks/Pulumi.prod.yaml", "prod");
    const image = new GoldenImage("win11-mcs", { stack, manifest: EXTERNAL, manifestDir: "/m" });
    await registrationsSettled();
    const snapshot = registered.find((r) => r.type === "vsphere:index/virtualMachineSnapshot:VirtualMachineSnapshot");
    assert.deepEqual(snapshot?.inputs, { virtualMachineUuid: "4212a1f2-6b9c-3e8d-1f0a-2b3c4d5e6f70", snapshotName: "win11-mcs-1.4.0", description: `rebake win11-mcs 1.4.0 build b1 (recipe ${"d".repeat(12)})`, memory: false, quiesce: false });
    const catalogs = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/rebake:CatalogImage");
    assert.deepEqual(catalogs.map((c) => [c.name, c.inputs.masterImagePath, c.inputs.reboot]), [
      ["W11-Pooled-image", "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\win11-mcs-1.4.0.snapshot", "immediate"],
      ["W11-Dedicated-image", "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\win11-mcs-1.4.0.snapshot", "none"],
    ]);
    assert.equal(catalogs[0]?.inputs.tokenRef, "env:CVAD_TOKEN");
    assert.equal(Object.keys(image.published).length, 2);
  });

  const snapshotOrder = [
    { kind: "vsphere" as const, snapshotType: "vsphere:index/virtualMachineSnapshot:VirtualMachineSnapshot" },
    { kind: "xenorchestra" as const, snapshotType: "pulumi-nodejs:dynamic/rebake:XoSnapshot" },
  ];
  for (const c of snapshotOrder) {
    it(`updates no catalog before the ${c.kind} snapshot exists: each catalog depends on it and takes its image path from it`, async () => {
      registered.length = 0;
      new GoldenImage("win11-order", { stack: parseStack(MCS_STACK(c.kind), "f", "prod"), manifest: EXTERNAL, manifestDir: "/m" });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(registered.some((r) => r.type === c.snapshotType && r.name === "snapshot"));
      for (const name of ["W11-Pooled-image", "W11-Dedicated-image"]) {
        const recorded = dependencies.of("pulumi-nodejs:dynamic/rebake:CatalogImage", name);
        assert.ok(recorded.dependsOn.includes("snapshot"), `${name} depends on the snapshot`);
        assert.deepEqual(recorded.inputsFrom.masterImagePath, ["snapshot"]);
      }
    });
  }

  it("a built snapshot needs no resource: the catalogs wait for nothing", async () => {
    registered.length = 0;
    new GoldenImage("win11-built", { stack: parseStack(MCS_STACK("vsphere"), "f", "prod"), manifest: MANIFEST, manifestDir: "/m" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(dependencies.of("pulumi-nodejs:dynamic/rebake:CatalogImage", "W11-Pooled-image"), { dependsOn: [], inputsFrom: {} });
  });

  it("a stack golden VM in resource pools with snapshots already is addressed through them", async () => {
    registered.length = 0;
    const yaml = MCS_STACK("vsphere").replace(/^( {4}goldenVm: \{name: W11-GOLD, uuid: [^}]*)\}/m, "$1, resourcePools: [VDI, Golden], snapshots: [w11-1.2.0, w11-1.3.0]}");
    new GoldenImage("win11-mcs", { stack: parseStack(yaml, "stacks/Pulumi.prod.yaml", "prod"), manifest: EXTERNAL, manifestDir: "/m" });
    await registrationsSettled();
    const catalogs = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/rebake:CatalogImage");
    assert.equal(catalogs[0]?.inputs.masterImagePath, "XDHyp:\\HostingUnits\\HU1\\VDI.resourcepool\\Golden.resourcepool\\W11-GOLD.vm\\w11-1.2.0.snapshot\\w11-1.3.0.snapshot\\win11-mcs-1.4.0.snapshot");
  });

  it("refuses a built snapshot whose manifest does not record where it sits", () => {
    const stack = parseStack(MCS_STACK("vsphere"), "stacks/Pulumi.prod.yaml", "prod");
    const old = { ...MANIFEST, outputs: [{ kind: "snapshot" as const, name: "s", ref: "r", vm: { name: "v", id: "i" } }] };
    assert.match(checkGoldenImageArgs({ stack, manifest: old, manifestDir: "/m" }).join("\n"), /does not record its resource pools and snapshot chain/);
  });

  it("snapshots through the XO REST provider on Xen Orchestra", async () => {
    registered.length = 0;
    new GoldenImage("win11-xo", { stack: parseStack(MCS_STACK("xenorchestra"), "f", "prod"), manifest: EXTERNAL, manifestDir: "/m" });
    await registrationsSettled();
    const snapshot = registered.find((r) => r.type === "pulumi-nodejs:dynamic/rebake:XoSnapshot");
    assert.equal(snapshot?.inputs.vmUuid, "4212a1f2-6b9c-3e8d-1f0a-2b3c4d5e6f70");
    assert.equal(snapshot?.inputs.tokenRef, "env:XO_TOKEN");
  });
});

const PVS_STACK = (accessMode: string) => `config:
  rebake:target: pvs
  rebake:image: {recipe: ws2022-pvs, version: 1.1.0}
  rebake:hypervisor: {kind: qemu}
  rebake:pvs:
    server: pvs01.example
    executor: {kind: local}
    accessMode: ${accessMode}
    maxVersionChain: 3
    sites:
      - {name: HQ, server: pvs01.example, collection: C, store: {name: Store-HQ, location: /stores/hq}}
      - {name: Branch, server: pvs02.example, collection: C, store: {name: Store-BR, location: /stores/br}}
`;

const PVS_MANIFEST: BuildManifest = {
  ...MANIFEST,
  recipe: { name: "ws2022-pvs", version: "1.1.0", file: "/nonexistent", hash: "e".repeat(64) },
  target: "pvs",
  driver: "qemu",
  outputs: [{ kind: "vhdx", path: "ws2022-pvs.vhdx", size: 100, sha256: "f".repeat(64) }],
};

describe("GoldenImage for a PVS vDisk version (mocks)", () => {
  for (const accessMode of ["maintenance", "test", "production"]) {
    it(`registers the version at every site for ${accessMode} devices instead of copying a new vDisk`, async () => {
      registered.length = 0;
      const stack = parseStack(PVS_STACK(accessMode), "stacks/Pulumi.t.yaml", "t");
      const version = { format: "rebake-vdisk-version/1", vdisk: "ws2022-pvs-1.0.0", number: 2, path: "ws2022-pvs-1.0.0.2.avhdx", sha256: "a".repeat(64), size: 10, parentFile: "ws2022-pvs-1.0.0.1.avhdx", parentPath: "../1.0.1/ws2022-pvs-1.0.0.1.avhdx", parentSha256: "b".repeat(64), parentLinkage: "{x}", method: "layers", methodReason: "r" } as const;
      const image = new GoldenImage("ws2022-pvs", { stack, manifest: PVS_MANIFEST, manifestDir: "/m", version });
      await registrationsSettled();
      assert.equal(registered.filter((r) => /Vdisk|PvsRegistration/.test(r.type)).length, 0);
      const versions = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/rebake:PvsVersion");
      assert.deepEqual(versions.map((v) => [v.inputs.siteName, v.inputs.vdiskName, v.inputs.number, v.inputs.accessMode, v.inputs.maxChain]), [
        ["HQ", "ws2022-pvs-1.0.0", 2, accessMode, 3],
        ["Branch", "ws2022-pvs-1.0.0", 2, accessMode, 3],
      ]);
      // Outputs of each site's version resource: a device assignment waits for the version to exist.
      const published = await new Promise((resolve) => pulumi.output(image.published).apply(resolve));
      assert.deepEqual(published, { HQ: "ws2022-pvs-1.0.0", Branch: "ws2022-pvs-1.0.0" });
    });
  }
});
