/**
 * A PVS image built by the runner on Xen Orchestra (the XO contract server, built from XO's REST
 * routes), with and without the layer cache: checkpoints are XO snapshots that never reach the
 * shared cache, and the capture reads the VHD the driver exports (GET /rest/v0/vdis/<uuid>.vhd),
 * not a layer reference. XO has no guest operations, so the guest is a scripted channel whose
 * shutdown powers the VM off from inside, as a real guest does; the installer does the same right
 * after its boot.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { FakeGuestChannel } from "../../src/guest/fake-channel.ts";
import type { VmHandle } from "../../src/hypervisors/driver.ts";
import { XoDriver } from "../../src/hypervisors/xenorchestra/xo-driver.ts";
import { build } from "../../src/runner/build.ts";
import { createFixture, type Fixture } from "../runner/helpers/build-fixture.ts";
import { startXoContractServer, TEMPLATE_DISK_CONTENT, type XoContractServer } from "../support/xo-contract-server.ts";

const TOKEN_ENV = "TEST_XO_TOKEN";

let xo: XoContractServer;
let fixture: Fixture;

before(async () => {
  xo = await startXoContractServer();
  fixture = await createFixture();
});
after(async () => {
  await xo.close();
  await fixture.dispose();
});

/** The guest powers itself off at the end of the install and on shutdown. */
class GuestPoweredXo extends XoDriver {
  private powerOns = 0;

  override async powerOn(vm: VmHandle): Promise<void> {
    await super.powerOn(vm);
    if (++this.powerOns === 1) xo.powerOffFromGuest(vm.id);
  }
}

class ShuttingDownChannel extends FakeGuestChannel {
  constructor(private readonly vm: VmHandle) {
    super();
  }

  override async shutdown(): Promise<void> {
    await super.shutdown();
    xo.powerOffFromGuest(this.vm.id);
  }
}

describe("a PVS build on Xen Orchestra", () => {
  for (const noCache of [false, true]) {
    test(`${noCache ? "--no-cache" : "with the layer cache on"}: snapshots checkpoint each step, nothing is committed, and the capture reads the exported VHD`, async () => {
      const exportDir = path.join(fixture.root, `xo-export-${noCache}`);
      const driver = new GuestPoweredXo({
        settings: { url: xo.url, tokenEnv: TOKEN_ENV, pool: xo.state.pools[0]!.id, template: xo.state.templates[0]!.id, isoSr: xo.state.srs[0]!.id },
        env: { [TOKEN_ENV]: xo.token },
        exportDir,
        pollMs: 5,
        log: () => {},
        guestChannel: (vm) => new ShuttingDownChannel(vm),
      });
      const captured: { path: string; format: string; bytes: Buffer }[] = [];
      const deps = fixture.deps({ driver });
      const outDir = path.join(fixture.root, `xo-out-${noCache}`);
      const { manifest } = await build(fixture.request(fixture.plan(), { noCache, outDir }), {
        ...deps,
        capture: async (disk, outPath, options) => {
          captured.push({ ...disk, bytes: await readFile(disk.path) });
          return deps.capture(disk, outPath, options);
        },
      });
      assert.equal(manifest.driver, "xenorchestra");
      assert.deepEqual(captured.map((c) => [c.format, c.bytes.equals(TEMPLATE_DISK_CONTENT)]), [["vhd", true]], "the VM's VDI, not a layer reference");
      assert.equal([...xo.state.snapshots.values()].filter((s) => s.name_label.startsWith("layer-")).length, 0, "the checkpoint snapshots went with the VM");
      assert.deepEqual(await readdir(path.join(fixture.cacheDir, "layers")).catch(() => []), [], "no layer reached the shared cache");
      assert.deepEqual(await readdir(exportDir), [], "the export is removed after the capture");
      assert.equal(xo.state.vms.size, 0, "the build VM is destroyed");
    });
  }
});
