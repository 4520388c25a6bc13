/**
 * A PVS image built by the runner on vSphere (vcsim), with and without the layer cache, and
 * captured through the driver's disk export into a real VHDX. vcsim 0.24 has no guest operations
 * and its VMs run no installer, so the guest is a scripted channel whose shutdown powers the VM
 * off, and the installer "finishes" by powering the VM off right after it boots; everything else
 * (VM, ISO uploads, CD-ROMs, power, checkpoint snapshots, destroy) is vcsim's. vcsim does not
 * implement ExportVm ("does not implement: ExportVm"), so `export.ovf` alone is answered as the
 * contract says govc writes it: `<dir>/<vm>/<vm>-disk-0.vmdk` (vmware/govmomi govc/export/ovf.go)
 * holding a real stream-optimized VMDK, which the capture converts for real.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { captureVhdx } from "../../src/capture/vhdx-capture.ts";
import { qemuImgFormat } from "../../src/capture/qemu-img-format.ts";
import { FakeGuestChannel } from "../../src/guest/fake-channel.ts";
import type { VmHandle } from "../../src/hypervisors/driver.ts";
import type { Govc } from "../../src/hypervisors/vsphere/govc.ts";
import { VsphereDriver } from "../../src/hypervisors/vsphere/vsphere-driver.ts";
import { build } from "../../src/runner/build.ts";
import { createExec, type Exec } from "../../src/util/exec.ts";
import { createFixture, type Fixture } from "../runner/helpers/build-fixture.ts";
import { startVcsim, VCSIM_INVENTORY, VCSIM_PASSWORD, VCSIM_USERNAME, type Vcsim } from "../support/vcsim.ts";

const CREDENTIALS = { usernameEnv: "TEST_VSPHERE_USER", passwordEnv: "TEST_VSPHERE_PASSWORD" } as const;
const ENV = { [CREDENTIALS.usernameEnv]: VCSIM_USERNAME, [CREDENTIALS.passwordEnv]: VCSIM_PASSWORD };
/** What the "guest" wrote: the disk the export hands back, 3 MiB with a recognisable pattern. */
const DISK_BYTES = 3 * 1024 * 1024;

const exec = createExec();
let vcsim: Vcsim;
let fixture: Fixture;

before(async () => {
  vcsim = await startVcsim();
  fixture = await createFixture();
});
after(async () => {
  await vcsim?.stop();
  await fixture?.dispose();
});

/** The guest's shutdown ends with the VM powered off, as a real guest's does. */
class PoweringOffChannel extends FakeGuestChannel {
  constructor(
    private readonly govc: Govc,
    private readonly vm: VmHandle,
  ) {
    super();
  }

  override async shutdown(): Promise<void> {
    await super.shutdown();
    await this.govc.run(["vm.power", "-off", "-force", this.vm.id]);
  }
}

interface Harness {
  readonly driver: VsphereDriver;
  readonly govcCalls: string[][];
}

/**
 * govc runs against vcsim, except two things vcsim cannot do: the installer's power off right
 * after the install boot, and the OVF export (contract).
 */
function harness(source: string): Harness {
  const govcCalls: string[][] = [];
  let powerOns = 0;
  const wrapped: Exec = async (command, args, options) => {
    govcCalls.push([...args]);
    if (args[0] === "export.ovf") return contractExport(args, source);
    const result = await exec(command, args, options);
    if (args[0] === "vm.power" && args[1] === "-on" && ++powerOns === 1) await exec(command, ["vm.power", "-off", "-force", args.at(-1)!], options);
    return result;
  };
  const driver = new VsphereDriver({
    settings: { url: vcsim.url, ...VCSIM_INVENTORY, insecure: true, credentials: CREDENTIALS },
    env: ENV,
    exportDir: path.join(fixture.root, "export"),
    govcBinary: vcsim.govc,
    exec: wrapped,
    pollMs: 50,
    log: () => {},
    guestChannel: (vm, govc) => new PoweringOffChannel(govc, vm),
  });
  return { driver, govcCalls };
}

/** export.ovf -vm <path> <dir> writes <dir>/<vm>/<vm>.ovf and <vm>-disk-0.vmdk. */
async function contractExport(args: readonly string[], source: string): Promise<{ command: string; exitCode: number; stdout: string; stderr: string }> {
  const vm = path.posix.basename(args[2]!);
  const out = path.join(args.at(-1)!, vm);
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, `${vm}.ovf`), "<Envelope/>");
  await exec("qemu-img", ["convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", source, path.join(out, `${vm}-disk-0.vmdk`)]);
  return { command: "govc export.ovf", exitCode: 0, stdout: "", stderr: "" };
}

async function vmNames(): Promise<string[]> {
  const { stdout } = await exec(vcsim.govc, ["ls", `/${VCSIM_INVENTORY.datacenter}/vm`], { env: vcsim.env });
  return stdout.split("\n").filter(Boolean);
}

describe("a PVS build on vSphere (vcsim)", { timeout: 120_000 }, () => {
  for (const noCache of [false, true]) {
    test(`contract: ${noCache ? "--no-cache" : "with the layer cache on"}, the build checkpoints with snapshots, commits no layer and captures the exported disk into a VHDX`, async () => {
      const source = path.join(fixture.root, `disk-${noCache}.raw`);
      const pattern = Buffer.alloc(DISK_BYTES);
      for (let i = 0; i < DISK_BYTES; i += 4096) pattern.write(`block ${i / 4096} `, i);
      await writeFile(source, pattern);
      const { driver, govcCalls } = harness(source);
      const outDir = path.join(fixture.root, `out-${noCache}`);
      const { manifest } = await build(fixture.request(fixture.plan(), { noCache, outDir }), {
        ...fixture.deps({ driver }),
        capture: (disk, outPath, { signal }) => captureVhdx({ path: disk.path, format: qemuImgFormat(disk.format) }, outPath, { exec, signal }),
      });
      assert.equal(manifest.driver, "vsphere");
      assert.equal(govcCalls.filter((a) => a[0] === "snapshot.create").length, fixture.plan().steps.length, "one checkpoint snapshot per step");
      assert.deepEqual(await readdir(path.join(fixture.cacheDir, "layers")).catch(() => []), [], "vSphere layers never reach the shared cache");
      const vhdx = manifest.outputs.find((o) => o.kind === "vhdx");
      assert.ok(vhdx?.kind === "vhdx");
      const back = path.join(fixture.root, `back-${noCache}.raw`);
      await exec("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", path.join(outDir, vhdx.path), back]);
      assert.ok((await readFile(back)).equals(pattern), "the vDisk holds exactly the exported disk");
      assert.deepEqual(await readdir(path.join(fixture.root, "export")), [], "the export is removed after the capture");
      assert.deepEqual(await vmNames(), [], "the build VM is destroyed");
    });
  }
});
