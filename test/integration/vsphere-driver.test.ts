import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createExec } from "../../src/util/exec.ts";
import { VsphereDriver } from "../../src/hypervisors/vsphere/vsphere-driver.ts";
import { VsphereAuthError, VsphereInventoryError, VsphereUploadError } from "../../src/hypervisors/vsphere/errors.ts";
import { Govc } from "../../src/hypervisors/vsphere/govc.ts";
import { uploadIso } from "../../src/hypervisors/vsphere/datastore-upload.ts";
import type { VsphereSettings } from "../../src/hypervisors/vsphere/settings.ts";
import type { VmSpec } from "../../src/hypervisors/driver.ts";
import { GuestTimeoutError } from "../../src/guest/channel.ts";
import { startVcsim, VCSIM_INVENTORY, VCSIM_PASSWORD, VCSIM_USERNAME, type Vcsim } from "../support/vcsim.ts";

const CREDENTIALS = { usernameEnv: "TEST_VSPHERE_USER", passwordEnv: "TEST_VSPHERE_PASSWORD" } as const;
const GOOD_ENV = { [CREDENTIALS.usernameEnv]: VCSIM_USERNAME, [CREDENTIALS.passwordEnv]: VCSIM_PASSWORD };

let vcsim: Vcsim;
let work: string;
const exec = createExec();

before(async () => {
  vcsim = await startVcsim();
  work = await mkdtemp(path.join(tmpdir(), "rebake-vsphere-"));
});
after(async () => {
  await vcsim?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function settings(overrides: Partial<VsphereSettings> = {}): VsphereSettings {
  return { url: vcsim.url, ...VCSIM_INVENTORY, insecure: true, credentials: CREDENTIALS, hostingUnit: "HU-Lab", ...overrides };
}

function driver(overrides: Partial<VsphereSettings> = {}, env: NodeJS.ProcessEnv = GOOD_ENV): VsphereDriver {
  return new VsphereDriver({ settings: settings(overrides), env, exportDir: path.join(work, "export"), govcBinary: vcsim.govc, pollMs: 100, log: () => {} });
}

function spec(name: string): VmSpec {
  return { name, cpus: 2, memoryMiB: 2048, diskGiB: 40, firmware: "uefi", secureBoot: false, tpm: false, disk: { path: path.join(work, `${name}.layer`) } };
}

async function govc(...args: string[]): Promise<string> {
  return (await exec(vcsim.govc, args, { env: vcsim.env })).stdout;
}

async function vmNames(): Promise<string[]> {
  return (await govc("ls", "/DC0/vm")).split("\n").filter(Boolean).map((p) => path.posix.basename(p));
}

async function iso(name: string, bytes: number): Promise<string> {
  const file = path.join(work, name);
  await writeFile(file, "");
  await truncate(file, bytes);
  await writeFile(file, `${name} `, { flag: "r+" });
  return file;
}

describe("vSphere driver against vcsim", () => {
  test("builds a VM with both ISOs, snapshots it for MCS, marks it as a template and destroys it", async () => {
    const vsphere = driver({ markAsTemplate: true });
    const vm = await vsphere.createVm(spec("golden-lifecycle"));
    try {
      await vsphere.attachMedia(vm, [
        { path: await iso("os.iso", 1 << 20), role: "install" },
        { path: await iso("answers.iso", 64 << 10), role: "answers" },
      ]);
      const devices = await govc("device.info", "-vm", vm.id, "cdrom-*");
      assert.match(devices, /rebake-iso\/os\.iso/);
      assert.match(devices, /rebake-iso\/answers\.iso/);
      const disk = JSON.parse(await govc("device.info", "-json", "-vm", vm.id, "disk-*")) as { Devices: { Backing: { ThinProvisioned: boolean } }[] };
      assert.equal(disk.Devices[0]!.Backing.ThinProvisioned, true);
      const info = await govc("vm.info", "-json", vm.id);
      assert.match(info, /"GuestId": "windows9Server64Guest"/);
      assert.match(info, /"Firmware": "efi"/);

      await vsphere.powerOn(vm);
      await vsphere.powerOff(vm);
      await vsphere.waitPoweredOff(vm, 5_000);
      const { ref, placement } = await vsphere.snapshot(vm, "ws2022-3.2.0-b42");
      assert.equal(ref, "XDHyp:\\HostingUnits\\HU-Lab\\golden-lifecycle.vm\\ws2022-3.2.0-b42.snapshot");
      assert.deepEqual(placement, { resourcePools: [], snapshotChain: ["ws2022-3.2.0-b42"] });
      assert.match(await govc("snapshot.tree", "-vm", vm.id), /ws2022-3\.2\.0-b42/);
      assert.match(await govc("vm.info", "-json", vm.id), /"Template": true/);
    } finally {
      await vsphere.destroy(vm);
    }
    assert.deepEqual(await vmNames(), []);
  });

  test("uploads an ISO once: the same file again is skipped by its recorded sha256", async () => {
    const local = await iso("same.iso", 256 << 10);
    const options = { govc: new Govc({ exec, env: vcsim.env, binary: vcsim.govc }), datastore: VCSIM_INVENTORY.datastore, folder: "rebake-iso" };
    const first = await uploadIso(local, options);
    const second = await uploadIso(local, options);
    assert.deepEqual([first.uploaded, second.uploaded], [true, false]);
    assert.equal((await govc("datastore.download", "-ds", VCSIM_INVENTORY.datastore, "rebake-iso/same.iso.sha256", "-")).split(" ")[0], first.sha256);
    await writeFile(local, "changed", { flag: "r+" });
    assert.equal((await uploadIso(local, options)).uploaded, true, "a changed file is uploaded again");
  });

  test("bad credentials fail with a clear message and no secret in it", async () => {
    const vsphere = driver({}, { ...GOOD_ENV, [CREDENTIALS.passwordEnv]: "wrong-password" });
    const error = await vsphere.createVm(spec("never")).catch((e: Error) => e);
    assert.ok(error instanceof VsphereAuthError, String(error));
    assert.match(error.message, /refused the login of user "rebake-test"/);
    assert.doesNotMatch(error.message, /wrong-password/);
  });

  for (const { kind, override, existing } of [
    { kind: "datastore", override: { datastore: "NoSuchDS" }, existing: /existing datastores: LocalDS_0/ },
    { kind: "network", override: { network: "No Such Net" }, existing: /existing networks: .*VM Network/ },
  ]) {
    test(`an unknown ${kind} fails before anything is created and lists the ones that exist`, async () => {
      const error = await driver(override).createVm(spec(`bad-${kind}`)).catch((e: Error) => e);
      assert.ok(error instanceof VsphereInventoryError, String(error));
      assert.match(error.message, existing);
      assert.deepEqual(await vmNames(), []);
    });
  }

  test("an ISO upload that breaks halfway leaves no file under its final name", async () => {
    const target = new URL(vcsim.url);
    const proxy = await cuttingProxy(Number(target.port), CUT_AFTER_BYTES);
    try {
      const url = `https://127.0.0.1:${proxy.port}/sdk`;
      const local = await iso("broken.iso", 8 << 20);
      const options = { govc: new Govc({ exec, env: { ...vcsim.env, GOVC_URL: url }, binary: vcsim.govc }), datastore: VCSIM_INVENTORY.datastore, folder: "rebake-iso" };
      const error = await uploadIso(local, options).catch((e: Error) => e);
      assert.ok(error instanceof VsphereUploadError, String(error));
      assert.ok(proxy.cuts() > 0, "the proxy cut the upload");
      const listing = await govc("datastore.ls", "-ds", VCSIM_INVENTORY.datastore, "-a", "rebake-iso");
      assert.doesNotMatch(listing, /broken\.iso/, "neither the final file, its checksum nor a partial file is left");
    } finally {
      await proxy.close();
    }
  });

  test("a VM that never gets an IP: waitReady times out and names the step", async () => {
    const vsphere = driver({ guestCredentials: CREDENTIALS });
    const vm = await vsphere.createVm(spec("no-ip"));
    try {
      await vsphere.powerOn(vm);
      const error = await vsphere.guest(vm).waitReady(500).catch((e: Error) => e);
      assert.ok(error instanceof GuestTimeoutError, String(error));
      assert.match(error.message, /step "wait for VMware Tools" did not finish within 500 ms/);
      assert.match(error.message, /no IP address/);
    } finally {
      await vsphere.destroy(vm);
    }
  });

  test("cleanup after an abort (what SIGINT triggers) leaves no VM behind", async () => {
    const vsphere = driver();
    const controller = new AbortController();
    const cleanup: (() => Promise<void>)[] = [];
    const run = async () => {
      const vm = await vsphere.createVm(spec("aborted"), controller.signal);
      cleanup.push(() => vsphere.destroy(vm));
      await vsphere.powerOn(vm);
      setTimeout(() => controller.abort(new Error("SIGINT")), 200);
      await vsphere.waitPoweredOff(vm, 60_000, controller.signal);
    };
    try {
      await assert.rejects(run(), /SIGINT|abort/i);
      assert.deepEqual(await vmNames(), ["aborted"], "the VM exists until cleanup runs");
    } finally {
      for (const step of cleanup.reverse()) await step();
    }
    assert.deepEqual(await vmNames(), []);
  });

  test("a checkpoint is a vSphere snapshot whose reference a later VM is linked-cloned from", async () => {
    const vsphere = driver();
    const parent = await vsphere.createVm(spec("layer-parent"));
    try {
      const { layer } = await vsphere.checkpoint(parent, path.join(work, "layers", "step-1.qcow2"));
      assert.match(await govc("snapshot.tree", "-vm", parent.id), /layer-step-1/);
      const child = await vsphere.createVm({ ...spec("layer-child"), disk: { path: path.join(work, "child"), baseLayer: layer } });
      try {
        assert.deepEqual((await vmNames()).sort(), ["layer-child", "layer-parent"]);
      } finally {
        await vsphere.destroy(child);
      }
    } finally {
      await vsphere.destroy(parent);
    }
    assert.deepEqual(await vmNames(), []);
  });

  test("the MCS path of a VM in nested resource pools names the pools and the whole snapshot chain, read back from vSphere", async () => {
    await govc("pool.create", `${VCSIM_INVENTORY.resourcePool}/VDI`);
    await govc("pool.create", `${VCSIM_INVENTORY.resourcePool}/VDI/Golden`);
    const vsphere = driver({ resourcePool: `${VCSIM_INVENTORY.resourcePool}/VDI/Golden` });
    const vm = await vsphere.createVm(spec("pooled"));
    try {
      await vsphere.checkpoint(vm, path.join(work, "layers", "pooled-1.qcow2"));
      const first = await vsphere.snapshot(vm, "w11-1.3.0");
      const second = await vsphere.snapshot(vm, "w11-1.4.0");
      assert.deepEqual(first.placement, { resourcePools: ["VDI", "Golden"], snapshotChain: ["layer-pooled-1", "w11-1.3.0"] });
      assert.equal(second.ref, "XDHyp:\\HostingUnits\\HU-Lab\\VDI.resourcepool\\Golden.resourcepool\\pooled.vm\\layer-pooled-1.snapshot\\w11-1.3.0.snapshot\\w11-1.4.0.snapshot");
    } finally {
      await vsphere.destroy(vm);
    }
    assert.deepEqual(await vmNames(), []);
  });

  test("the MCS path of a VM inside nested VM folders has no folder element: XDHyp follows pools, not folders", async () => {
    await govc("folder.create", `/${VCSIM_INVENTORY.datacenter}/vm/Golden`);
    await govc("folder.create", `/${VCSIM_INVENTORY.datacenter}/vm/Golden/W11`);
    const vsphere = driver({ folder: `/${VCSIM_INVENTORY.datacenter}/vm/Golden/W11` });
    const vm = await vsphere.createVm(spec("foldered"));
    try {
      const taken = await vsphere.snapshot(vm, "w11-2.0.0");
      assert.equal(taken.ref, "XDHyp:\\HostingUnits\\HU-Lab\\foldered.vm\\w11-2.0.0.snapshot");
    } finally {
      await vsphere.destroy(vm);
      await govc("object.destroy", `/${VCSIM_INVENTORY.datacenter}/vm/Golden`);
    }
    assert.deepEqual(await vmNames(), []);
  });

  test("a create cancelled before it starts creates nothing", async () => {
    const controller = new AbortController();
    controller.abort(new Error("SIGINT"));
    await assert.rejects(driver().createVm(spec("cancelled"), controller.signal), /SIGINT/);
    assert.deepEqual(await vmNames(), []);
  });

  test("contract: verify of an MCS snapshot boots a linked clone of it and deletes the clone, leaving the golden VM and its snapshot", async () => {
    const vsphere = driver();
    const golden = await vsphere.createVm(spec("golden-verify"));
    try {
      await vsphere.snapshot(golden, "golden-verify-1.0.0");
      await vsphere.release(golden);
      const dir = await mkdtemp(path.join(work, "verify-"));
      const layer = await vsphere.snapshotLayer({ name: "golden-verify-1.0.0", vm: golden });
      const clone = await vsphere.createVm({ ...spec("golden-verify-check"), disk: { path: path.join(dir, "overlay"), baseLayer: layer } });
      assert.ok((await vmNames()).includes("golden-verify-check"));
      await vsphere.powerOn(clone);
      await vsphere.powerOff(clone);
      await vsphere.destroy(clone);
      assert.ok(!(await vmNames()).includes("golden-verify-check"), "the clone is deleted");
      assert.ok((await vmNames()).includes("golden-verify"), "the golden VM stays");
      assert.match(await govc("snapshot.tree", "-vm", golden.id), /golden-verify-1\.0\.0/, "its snapshot stays");
    } finally {
      await govc("vm.destroy", golden.id).catch(() => undefined);
    }
  });
});

/** The SOAP calls stay far below this; only an upload's body crosses it. */
const CUT_AFTER_BYTES = 1 << 20;

/** A TCP proxy that kills any connection once the client has sent `limit` bytes. */
async function cuttingProxy(targetPort: number, limit: number): Promise<{ port: number; cuts(): number; close(): Promise<void> }> {
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    let sent = 0;
    client.on("data", (chunk: Buffer) => {
      sent += chunk.length;
      if (sent > limit) {
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cuts: () => cuts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
