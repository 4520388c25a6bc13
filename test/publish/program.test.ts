/**
 * The Pulumi program under mocks, per stack: mocks are set first, then the program is imported.
 */
import * as pulumi from "@pulumi/pulumi";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { recordingMocks, registrationsSettled } from "../support/pulumi-mocks.ts";

const { mocks, registered } = recordingMocks((inputs) => ({ ...inputs, sha256: (inputs as { sha256?: string }).sha256 }));
pulumi.runtime.setMocks(mocks, "rebake", "dev");
const { program } = await import("../../src/publish/index.ts");

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const SHA = "b".repeat(64);

function manifest(version: string, verified = true) {
  return {
    manifestVersion: 1, buildId: `b-${version}`,
    recipe: { name: "ws2022-pvs", version, file: join(REPO, "recipes/ws2022-pvs.yaml"), hash: "c".repeat(64) },
    target: "pvs", driver: "qemu", started: "2025-01-01T00:00:00Z", finished: "2025-01-01T01:00:00Z",
    inputs: [], steps: [], outputs: [{ kind: "vhdx", path: "ws2022-apps.vhdx", size: 1024, sha256: SHA }],
    tools: {}, timings: { totalMs: 1, inGuestMs: 0, bootMs: 0, captureMs: 0 }, warnings: [],
    ...(verified ? { verification: { passed: true, at: "2025-01-01T02:00:00Z", durationMs: 1, checks: [] } } : {}),
  };
}


describe("publish program (mocks)", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "rebake-program-"));
    await cp(join(REPO, "stacks"), join(root, "stacks"), { recursive: true });
    await cp(join(REPO, "devices"), join(root, "devices"), { recursive: true });
    for (const version of ["3.2.0", "3.1.0", "3.0.2"]) {
      await mkdir(join(root, "out/ws2022-pvs", version), { recursive: true });
      await writeFile(join(root, "out/ws2022-pvs", version, "manifest.json"), JSON.stringify(manifest(version)));
    }
  });
  after(() => rm(root, { recursive: true, force: true }));

  const stacks = [
    { stack: "dev", version: "3.2.0", sites: ["Lab"], accessMode: "maintenance", stores: ["smb://pvs-dev01.corp.example/vDisks"], devices: 0 },
    { stack: "test", version: "3.1.0", sites: ["HQ"], accessMode: "test", stores: ["/mnt/pvs/hq/vDisks"], devices: 0 },
    // prod names a device manifest per site: devices/hq.csv (3 rows) and devices/lyon.yaml (2).
    { stack: "prod", version: "3.0.2", sites: ["HQ", "Branch-Lyon"], accessMode: "production", stores: ["/mnt/pvs/hq/vDisks", "smb://pvs-lyo01.corp.example/vDisks"], devices: 5 },
  ];
  for (const c of stacks) {
    it(`registers for ${c.stack} one vDisk and one PVS registration per site, in access mode ${c.accessMode}`, async () => {
      registered.length = 0;
      pulumi.runtime.setMocks(mocks, "rebake", c.stack);
      const outputs = await program({ root, stack: c.stack });
      await registrationsSettled();
      assert.equal(outputs.version, c.version);
      const disks = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/rebake:Vdisk");
      const registrations = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/rebake:PvsRegistration");
      assert.deepEqual(registered.filter((r) => r.type === "rebake:index:GoldenImage").map((r) => r.name), ["ws2022-pvs"]);
      assert.deepEqual(disks.map((d) => d.name), c.sites.map((s) => `${s}-vdisk`));
      assert.deepEqual(disks.map((d) => d.inputs.store), c.stores);
      for (const disk of disks) {
        assert.equal(disk.inputs.name, `ws2022-apps-${c.version}`);
        assert.equal(disk.inputs.sha256, SHA);
        assert.equal(disk.inputs.source, join(root, "out/ws2022-pvs", c.version, "ws2022-apps.vhdx"));
        assert.equal((disk.inputs.properties as { writeCacheType: string }).writeCacheType, "device-ram-with-overflow-on-disk");
      }
      assert.deepEqual(registrations.map((r) => [r.name, r.inputs.accessMode, r.inputs.siteName]), c.sites.map((s) => [`${s}-registration`, c.accessMode, s]));
      assert.equal(registered.filter((r) => r.type.endsWith(":PvsDevice")).length, c.devices);
    });
  }

  it("refuses to publish a version that was not verified", async () => {
    await writeFile(join(root, "out/ws2022-pvs/3.2.0/manifest.json"), JSON.stringify(manifest("3.2.0", false)));
    pulumi.runtime.setMocks(mocks, "rebake", "dev");
    await assert.rejects(program({ root, stack: "dev" }), /never verified; run rebake verify/);
    await writeFile(join(root, "out/ws2022-pvs/3.2.0/manifest.json"), JSON.stringify(manifest("3.2.0")));
  });
});
