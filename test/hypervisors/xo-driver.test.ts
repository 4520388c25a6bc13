import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { XoDriver } from "../../src/hypervisors/xenorchestra/xo-driver.ts";
import { XoAuthError, XoError, XoInventoryError, XoTaskError, XoTimeoutError } from "../../src/hypervisors/xenorchestra/errors.ts";
import type { XoSettings } from "../../src/hypervisors/xenorchestra/settings.ts";
import type { VmSpec } from "../../src/hypervisors/driver.ts";
import { startXoContractServer, TEMPLATE_DISK_CONTENT, type XoActionForm, type XoContractServer } from "../support/xo-contract-server.ts";

const TOKEN_ENV = "TEST_XO_TOKEN";

let xo: XoContractServer;
let work: string;

beforeEach(async () => {
  xo = await startXoContractServer();
  work = await mkdtemp(path.join(tmpdir(), "rebake-xo-"));
});
afterEach(async () => {
  await xo.close();
  await rm(work, { recursive: true, force: true });
});

function settings(overrides: Partial<XoSettings> = {}): XoSettings {
  return { url: xo.url, tokenEnv: TOKEN_ENV, pool: xo.state.pools[0]!.id, template: xo.state.templates[0]!.id, isoSr: xo.state.srs[0]!.id, hostingUnit: "HU-XCP", ...overrides };
}

function driver(overrides: Partial<XoSettings> = {}, token = xo.token): XoDriver {
  return new XoDriver({ settings: settings(overrides), env: { [TOKEN_ENV]: token }, exportDir: path.join(work, "export"), pollMs: 5, log: () => {} });
}

const spec = (name: string): VmSpec => ({ name, cpus: 2, memoryMiB: 4096, diskGiB: 40, firmware: "uefi", secureBoot: false, tpm: false, disk: { path: path.join(work, `${name}.layer`) } });

async function iso(name: string, bytes: number): Promise<string> {
  const file = path.join(work, name);
  await writeFile(file, Buffer.alloc(bytes, name.length));
  return file;
}

describe("Xen Orchestra driver", () => {
  test("contract: builds from the template with both ISOs, snapshots for MCS, exports the disk as VHD and destroys the VM", async () => {
    const xoDriver = driver();
    const vm = await xoDriver.createVm(spec("golden-xo"));
    try {
      await xoDriver.attachMedia(vm, [
        { path: await iso("os.iso", 200_000), role: "install" },
        { path: await iso("answers.iso", 3_000), role: "answers" },
      ]);
      const created = xo.state.vms.get(vm.id)!;
      assert.equal(created.template, xo.state.templates[0]!.id);
      assert.equal(created.memory, 4096 * 1024 * 1024);
      const cds = created.$VBDs.map((id) => xo.state.vbds.get(id)!).filter((vbd) => vbd.is_cd_drive);
      assert.deepEqual(cds.map((vbd) => [xo.state.vdis.get(vbd.VDI)!.name_label.split("@")[0], vbd.bootable]), [["os.iso", true], ["answers.iso", false]]);

      await xoDriver.powerOn(vm);
      assert.equal(xo.state.vms.get(vm.id)!.power_state, "Running");
      xo.powerOffFromGuest(vm.id);
      await xoDriver.waitPoweredOff(vm, 1_000);
      const { ref } = await xoDriver.snapshot(vm, "ws2022-3.2.0-b7");
      assert.equal(ref, "XDHyp:\\HostingUnits\\HU-XCP\\golden-xo.vm\\ws2022-3.2.0-b7.snapshot");
      assert.deepEqual([...xo.state.snapshots.values()].map((s) => s.name_label), ["ws2022-3.2.0-b7"]);

      const disk = await xoDriver.exportDisk(vm);
      assert.equal(disk.format, "vhd");
      assert.deepEqual(await readFile(disk.path), TEMPLATE_DISK_CONTENT);
    } finally {
      await xoDriver.destroy(vm);
    }
    assert.equal(xo.state.vms.size, 0);
    assert.deepEqual(xo.violations, []);
    assert.ok(xo.requests.some((r) => r.startsWith("GET /rest/v0/tasks/")), "actions are followed by task polling");
  });

  test("contract: an ISO already on the SR with the same sha256 is not uploaded again", async () => {
    const xoDriver = driver();
    const file = await iso("same.iso", 10_000);
    const first = await xoDriver.createVm(spec("first"));
    await xoDriver.attachMedia(first, [{ path: file, role: "install" }]);
    const second = await xoDriver.createVm(spec("second"));
    await xoDriver.attachMedia(second, [{ path: file, role: "install" }]);
    assert.equal(xo.requests.filter((r) => r.startsWith(`POST /rest/v0/srs/`)).length, 1);
    assert.deepEqual(xo.violations, []);
  });

  test("contract: a bad token fails with a message naming the variable, never the token", async () => {
    const error = await driver({}, "not-the-token").createVm(spec("never")).catch((e: Error) => e);
    assert.ok(error instanceof XoAuthError, String(error));
    assert.match(error.message, new RegExp(`refused the token in ${TOKEN_ENV}`));
    assert.doesNotMatch(error.message, /not-the-token/);
  });

  for (const { kind, field } of [
    { kind: "pool", field: "pool" },
    { kind: "template", field: "template" },
    { kind: "SR", field: "isoSr" },
  ] as const) {
    test(`contract: an unknown ${kind} fails before anything is created and lists what exists`, async () => {
      const error = await driver({ [field]: "00000000-0000-0000-0000-000000000000" }).createVm(spec("bad")).catch((e: Error) => e);
      assert.ok(error instanceof XoInventoryError, String(error));
      assert.match(error.message, new RegExp(`existing ${kind}s: [0-9a-f-]{36} \\(`));
      assert.equal(xo.state.vms.size, 0);
    });
  }

  test("contract: an ISO upload that breaks halfway leaves no VDI under its label", async () => {
    const xoDriver = driver();
    const vm = await xoDriver.createVm(spec("broken-upload"));
    xo.breakNextUploadAfter(100_000);
    const error = await xoDriver.attachMedia(vm, [{ path: await iso("big.iso", 1_000_000), role: "install" }]).catch((e: Error) => e);
    assert.ok(error instanceof XoError, String(error));
    assert.match(error.message, /no VDI was left under its label/);
    assert.deepEqual([...xo.state.vdis.values()].filter((vdi) => vdi.name_label.startsWith("big.iso")), []);
    await xoDriver.destroy(vm);
  });

  test("contract: a VM that never powers off times out naming the step", async () => {
    const xoDriver = driver();
    const vm = await xoDriver.createVm(spec("stuck"));
    await xoDriver.powerOn(vm);
    const error = await xoDriver.waitPoweredOff(vm, 50).catch((e: Error) => e);
    assert.ok(error instanceof XoTimeoutError, String(error));
    assert.match(error.message, /step "wait for power off" did not finish within 50 ms/);
    await xoDriver.destroy(vm);
    assert.equal(xo.state.vms.size, 0, "destroy shuts a running VM down first");
  });

  test("contract: a failed task surfaces XO's message", async () => {
    const xoDriver = driver();
    const vm = await xoDriver.createVm(spec("twice"));
    await xoDriver.powerOn(vm);
    await assert.rejects(xoDriver.powerOn(vm), (e: Error) => e instanceof XoTaskError && /ended in failure: VM_BAD_POWER_STATE\(Running\)/.test(e.message));
    await xoDriver.destroy(vm);
  });

  test("contract: cleanup after an abort leaves no VM behind", async () => {
    const xoDriver = driver();
    const controller = new AbortController();
    const cleanup: (() => Promise<void>)[] = [];
    const run = async () => {
      const vm = await xoDriver.createVm(spec("aborted"), controller.signal);
      cleanup.push(() => xoDriver.destroy(vm));
      await xoDriver.powerOn(vm);
      setTimeout(() => controller.abort(new Error("SIGINT")), 20);
      await xoDriver.waitPoweredOff(vm, 60_000, controller.signal);
    };
    try {
      await assert.rejects(run(), /SIGINT/);
    } finally {
      for (const step of cleanup.reverse()) await step();
    }
    assert.equal(xo.state.vms.size, 0);
    assert.deepEqual(xo.violations, []);
  });

  test("checkpoints become snapshots a later VM is cloned from", async () => {
    const xoDriver = driver();
    const vm = await xoDriver.createVm(spec("layered"));
    const layer = path.join(work, "layers", "step-1.qcow2");
    const { layer: frozen } = await xoDriver.checkpoint(vm, layer);
    const reference = JSON.parse(frozen) as { snapshot: string };
    const child = await xoDriver.createVm({ ...spec("child"), disk: { path: path.join(work, "c"), baseLayer: frozen } });
    assert.equal(xo.state.vms.get(child.id)!.template, reference.snapshot);
    assert.deepEqual(xo.violations, []);
  });

  test("guest() without a configured channel says what to configure", async () => {
    const xoDriver = driver();
    const vm = await xoDriver.createVm(spec("no-channel"));
    assert.throws(() => xoDriver.guest(vm), /configure a WinRM or SSH channel/);
  });

  test("contract: the MCS path of a later snapshot names the whole chain, checkpoints included", async () => {
    const xoDriver = driver();
    const vm = await xoDriver.createVm(spec("chained"));
    await xoDriver.checkpoint(vm, path.join(work, "layers", "step-1.qcow2"));
    const first = await xoDriver.snapshot(vm, "w11-1.3.0");
    const second = await xoDriver.snapshot(vm, "w11-1.4.0");
    assert.deepEqual(first.placement, { resourcePools: [], snapshotChain: ["layer-step-1", "w11-1.3.0"] });
    assert.equal(second.ref, "XDHyp:\\HostingUnits\\HU-XCP\\chained.vm\\layer-step-1.snapshot\\w11-1.3.0.snapshot\\w11-1.4.0.snapshot");
    assert.deepEqual(xo.violations, []);
  });

  test("contract: a VM cloned from another VM's snapshot starts its own chain", async () => {
    const xoDriver = driver();
    const parent = await xoDriver.createVm(spec("parent"));
    const { layer } = await xoDriver.checkpoint(parent, path.join(work, "layers", "base.qcow2"));
    const child = await xoDriver.createVm({ ...spec("child"), disk: { path: path.join(work, "c"), baseLayer: layer } });
    assert.deepEqual((await xoDriver.snapshot(child, "child-1.0.0")).placement?.snapshotChain, ["child-1.0.0"]);
    assert.deepEqual(xo.violations, []);
  });
});

describe("Xen Orchestra driver against both forms XO answers actions in", () => {
  for (const actionForm of ["rest-api.mjs", "controllers"] satisfies XoActionForm[]) {
    test(`contract: power, snapshot and destroy follow the tasks of the ${actionForm} form`, async () => {
      const server = await startXoContractServer({ actionForm });
      try {
        const xoDriver = new XoDriver({ settings: { url: server.url, tokenEnv: TOKEN_ENV, pool: server.state.pools[0]!.id, template: server.state.templates[0]!.id, isoSr: server.state.srs[0]!.id, hostingUnit: "HU" }, env: { [TOKEN_ENV]: server.token }, exportDir: path.join(work, "export"), pollMs: 5, log: () => {} });
        const vm = await xoDriver.createVm(spec(`form-${actionForm}`));
        await xoDriver.powerOn(vm);
        await xoDriver.powerOff(vm);
        assert.equal((await xoDriver.snapshot(vm, "s1")).placement?.snapshotChain.at(-1), "s1");
        await xoDriver.destroy(vm);
        assert.equal(server.state.vms.size, 0);
        assert.deepEqual(server.violations, []);
      } finally {
        await server.close();
      }
    });
  }
});

describe("Xen Orchestra contract server refuses what XO would refuse", () => {
  const cases = [
    { why: "a request without the authenticationToken cookie", method: "GET", path: "/rest/v0/pools", cookie: false, status: 401 },
    { why: "an unknown route", method: "GET", path: "/rest/v0/hosts-and-more", cookie: true, status: 404 },
    { why: "a wrong method on a VM", method: "PUT", path: "/rest/v0/vms/00000000-0000-0000-0000-000000000000", cookie: true, status: 404 },
    { why: "an action started with GET", method: "GET", path: "/rest/v0/pools/00000000-0000-0000-0000-000000000000/actions/create_vm", cookie: true, status: 404 },
  ] as const;
  for (const { why, method, path: route, cookie, status } of cases) {
    test(`contract: ${why} is answered ${status} and recorded`, async () => {
      const response = await fetch(`${xo.url}${route}`, { method, headers: cookie ? { cookie: `authenticationToken=${xo.token}` } : {} });
      assert.equal(response.status, status);
      assert.equal(xo.violations.length, 1, xo.violations.join("\n"));
    });
  }

  test("contract: a wrong token is XO's 401 and not a client bug", async () => {
    const response = await fetch(`${xo.url}/rest/v0/pools`, { headers: { cookie: "authenticationToken=nope" } });
    assert.equal(response.status, 401);
    assert.deepEqual(xo.violations, []);
  });
});
