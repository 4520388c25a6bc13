import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BuildConnectionError, createDriver, driverSettings, loadConnection, MissingCredentialError, RESOLVED_CREDENTIAL_ENV, selectDriverName, type SelectedConnection } from "../../src/cli/wiring.ts";
import { QemuDriver } from "../../src/hypervisors/qemu/qemu-driver.ts";
import { VsphereDriver } from "../../src/hypervisors/vsphere/vsphere-driver.ts";
import { XoDriver } from "../../src/hypervisors/xenorchestra/xo-driver.ts";
import { GuestChannelSettingsError } from "../../src/guest/guest-channel-settings.ts";
import { StackConfigError } from "../../src/stacks/load-stack.ts";
import { UsageError } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { createRecordingExec } from "../../src/util/exec.ts";
import type { HypervisorConnection } from "../../src/stacks/model.ts";
import { WinrmChannel } from "../../src/guest/winrm/winrm-channel.ts";
import { SshChannel } from "../../src/guest/ssh/ssh-channel.ts";
import { VmwareToolsChannel } from "../../src/guest/vmware-tools/vmware-tools-channel.ts";
import type { VmSpec } from "../../src/hypervisors/driver.ts";
import { startXoContractServer } from "../support/xo-contract-server.ts";

const VSPHERE: HypervisorConnection = {
  kind: "vsphere",
  server: "vcenter.corp.example",
  datacenter: "DC1",
  username: "svc-rebake@vsphere.local",
  password: "env:VCENTER_PASSWORD",
  insecure: false,
  datastore: "vsanDatastore",
  network: "VM Network",
  resourcePool: "/DC1/host/Cluster01/Resources",
  hostingUnit: "HU-Cluster01",
  guest: { kind: "vmware-tools", user: "Administrator", password: "env:GUEST_PASSWORD" },
};
const XO: HypervisorConnection = {
  kind: "xenorchestra",
  url: "https://xo.corp.example",
  token: "env:XO_TOKEN",
  insecure: false,
  pool: "pool-uuid",
  template: "template-uuid",
  isoSr: "sr-uuid",
  guest: { kind: "winrm", user: "Administrator", password: "env:WINRM_PASSWORD", https: true },
};
const ENV = { VCENTER_PASSWORD: "vc-secret", GUEST_PASSWORD: "guest-secret", XO_TOKEN: "xo-secret", WINRM_PASSWORD: "winrm-secret", PATH: process.env.PATH };

function connection(hypervisor: HypervisorConnection, source = "stacks/Pulumi.lab.yaml"): SelectedConnection {
  return { hypervisor, source };
}

function options(extra: Partial<Parameters<typeof createDriver>[1]> = {}) {
  return { runtimeDir: "/tmp/rebake-selection", env: ENV, log: () => {}, exec: createRecordingExec(), ...extra };
}

describe("which driver a build runs on", () => {
  for (const { name, flag, from, expected } of [
    { name: "no stack and no flag builds on the local QEMU", flag: undefined, from: undefined, expected: QemuDriver },
    { name: "a vSphere stack picks the vSphere driver", flag: undefined, from: connection(VSPHERE), expected: VsphereDriver },
    { name: "a Xen Orchestra stack picks the Xen Orchestra driver", flag: undefined, from: connection(XO), expected: XoDriver },
    { name: "--driver qemu overrides a vSphere stack (a local build)", flag: "qemu", from: connection(VSPHERE), expected: QemuDriver },
    { name: "--driver naming the stack's own kind changes nothing", flag: "vsphere", from: connection(VSPHERE), expected: VsphereDriver },
  ] as const) {
    test(name, () => {
      assert.ok(createDriver(flag, options(from ? { connection: from } : {})) instanceof expected);
    });
  }

  for (const { name, flag, from, message } of [
    { name: "an unknown --driver lists the known ones", flag: "hyperv", from: undefined, message: /--driver must be one of qemu, vsphere, xenorchestra, got: 'hyperv'/ },
    { name: "--driver vsphere without a stack or config asks for one", flag: "vsphere", from: undefined, message: /--driver vsphere needs connection settings: pass --stack NAME .* or --hypervisor-config FILE/ },
    { name: "--driver that contradicts the stack names both", flag: "xenorchestra", from: connection(VSPHERE), message: /--driver xenorchestra does not match stacks\/Pulumi\.lab\.yaml, which configures vsphere/ },
  ] as const) {
    test(`${name} (usage error)`, () => {
      assert.throws(() => selectDriverName(flag, from), (e: Error) => e instanceof UsageError && message.test(e.message));
    });
  }
});

describe("the settings a stack gives the driver", () => {
  test("vSphere: url from the server, inventory names, credentials resolved under private names", () => {
    const { settings, env } = driverSettings("vsphere", options({ connection: connection(VSPHERE) }));
    assert.deepEqual(settings, {
      url: "https://vcenter.corp.example/sdk",
      datacenter: "DC1",
      datastore: "vsanDatastore",
      network: "VM Network",
      insecure: false,
      credentials: { usernameEnv: RESOLVED_CREDENTIAL_ENV.vsphereUser, passwordEnv: RESOLVED_CREDENTIAL_ENV.vspherePassword },
      resourcePool: "/DC1/host/Cluster01/Resources",
      hostingUnit: "HU-Cluster01",
      guestCredentials: { usernameEnv: RESOLVED_CREDENTIAL_ENV.guestUser, passwordEnv: RESOLVED_CREDENTIAL_ENV.guestPassword },
      guest: { kind: "vmware-tools" },
    });
    assert.equal(env[RESOLVED_CREDENTIAL_ENV.vsphereUser], "svc-rebake@vsphere.local");
    assert.equal(env[RESOLVED_CREDENTIAL_ENV.vspherePassword], "vc-secret");
    assert.equal(env[RESOLVED_CREDENTIAL_ENV.guestPassword], "guest-secret");
  });

  test("Xen Orchestra: token and WinRM password resolved, guest channel passed on without the secret", () => {
    const { settings, env } = driverSettings("xenorchestra", options({ connection: connection(XO) }));
    assert.deepEqual(settings, {
      url: "https://xo.corp.example",
      tokenEnv: RESOLVED_CREDENTIAL_ENV.xoToken,
      pool: "pool-uuid",
      template: "template-uuid",
      isoSr: "sr-uuid",
      guest: { kind: "winrm", user: "Administrator", https: true, passwordEnv: RESOLVED_CREDENTIAL_ENV.guestPassword },
    });
    assert.equal(env[RESOLVED_CREDENTIAL_ENV.xoToken], "xo-secret");
    assert.doesNotMatch(JSON.stringify(settings), /secret/);
  });

  test("an explicit url (vcsim, a non-default port) wins over the server name", () => {
    const { settings } = driverSettings("vsphere", options({ connection: connection({ ...VSPHERE, url: "https://127.0.0.1:8989/sdk" }) }));
    assert.equal(settings.url, "https://127.0.0.1:8989/sdk");
  });

  test("pulumi: references resolve through the stack's secrets", () => {
    const { env } = driverSettings("vsphere", options({ connection: connection({ ...VSPHERE, password: "pulumi:vcenterPassword" }), pulumiSecret: (key) => (key === "vcenterPassword" ? "from-pulumi" : undefined) }));
    assert.equal(env[RESOLVED_CREDENTIAL_ENV.vspherePassword], "from-pulumi");
  });

  test("the govc command line never carries a credential", async () => {
    const exec = createRecordingExec((_command, args) => (args[0] === "ls" ? { stdout: args[1]!.endsWith("datastore") ? "/DC1/datastore/vsanDatastore\n" : "/DC1/network/VM Network\n" } : undefined));
    const driver = createDriver(undefined, options({ connection: connection(VSPHERE), exec })) as VsphereDriver;
    await driver.checkInventory();
    assert.ok(exec.calls.length >= 3);
    for (const call of exec.calls) {
      assert.doesNotMatch(call.args.join(" "), /vc-secret|guest-secret/);
      assert.equal(call.options?.env?.GOVC_PASSWORD, "vc-secret");
    }
  });
});

describe("the guest channel the stack names is the one the driver hands out", () => {
  const spec: VmSpec = { name: "golden", cpus: 1, memoryMiB: 1024, diskGiB: 8, firmware: "bios", secureBoot: false, tpm: false, disk: { path: "/tmp/rebake-selection/golden.layer" } };
  const vcenter = () =>
    createRecordingExec((_command, args) => (args[0] === "ls" ? { stdout: args[1]!.endsWith("datastore") ? "/DC1/datastore/vsanDatastore\n" : "/DC1/network/VM Network\n" } : undefined));

  for (const { name, guest, expected } of [
    { name: "vSphere with VMware Tools guest operations", guest: VSPHERE.kind === "vsphere" ? VSPHERE.guest : undefined, expected: VmwareToolsChannel },
    { name: "vSphere with WinRM", guest: { kind: "winrm", user: "Administrator", password: "env:WINRM_PASSWORD" } as const, expected: WinrmChannel },
    { name: "vSphere with SSH", guest: { kind: "ssh", user: "builder", keyPath: "/k" } as const, expected: SshChannel },
  ]) {
    test(name, async () => {
      const driver = createDriver(undefined, options({ connection: connection({ ...VSPHERE, guest } as HypervisorConnection), exec: vcenter() }));
      assert.ok(driver.guest(await driver.createVm(spec)) instanceof expected);
    });
  }

  test("contract: Xen Orchestra with WinRM, against the XO contract server", async () => {
    const xo = await startXoContractServer();
    try {
      const hypervisor = { ...XO, url: xo.url, pool: xo.state.pools[0]!.id, template: xo.state.templates[0]!.id, isoSr: xo.state.srs[0]!.id } as HypervisorConnection;
      const driver = createDriver(undefined, options({ connection: connection(hypervisor), env: { ...ENV, XO_TOKEN: xo.token } }));
      const vm = await driver.createVm(spec);
      try {
        assert.ok(driver.guest(vm) instanceof WinrmChannel);
      } finally {
        await driver.destroy(vm);
      }
      assert.deepEqual(xo.violations, [], "every request the driver made followed XO's REST API");
      assert.equal(xo.state.vms.size, 0, "the VM it created was destroyed");
    } finally {
      await xo.close();
    }
  });
});

describe("missing settings fail before any VM, naming what to set", () => {
  for (const { name, hypervisor, env, error, message } of [
    { name: "the vCenter password variable", hypervisor: VSPHERE, env: { ...ENV, VCENTER_PASSWORD: undefined }, error: MissingCredentialError, message: /hypervisor\.password \(vSphere password\) from stacks\/Pulumi\.lab\.yaml: .*export the environment variable VCENTER_PASSWORD/ },
    { name: "the VMware Tools guest password variable", hypervisor: VSPHERE, env: { ...ENV, GUEST_PASSWORD: "" }, error: MissingCredentialError, message: /environment variable GUEST_PASSWORD/ },
    { name: "the Xen Orchestra token variable", hypervisor: XO, env: { ...ENV, XO_TOKEN: undefined }, error: MissingCredentialError, message: /export the environment variable XO_TOKEN/ },
    { name: "the WinRM password variable", hypervisor: XO, env: { ...ENV, WINRM_PASSWORD: undefined }, error: MissingCredentialError, message: /WinRM password.*WINRM_PASSWORD/ },
    { name: "a pulumi: secret without a stack", hypervisor: { ...XO, token: "pulumi:xoToken" }, env: ENV, error: MissingCredentialError, message: /secret pulumi:xoToken needs a Pulumi stack/ },
    { name: "the datastore and network a build needs", hypervisor: { ...VSPHERE, datastore: undefined, network: undefined }, env: ENV, error: BuildConnectionError, message: /building on vsphere needs hypervisor\.datastore, hypervisor\.network/ },
    { name: "a guest channel on Xen Orchestra", hypervisor: { ...XO, guest: undefined }, env: ENV, error: BuildConnectionError, message: /building on xenorchestra needs hypervisor\.guest/ },
  ] as const) {
    test(name, () => {
      assert.throws(() => createDriver(undefined, options({ connection: connection(hypervisor as HypervisorConnection), env: env as NodeJS.ProcessEnv })), (e: Error) => e instanceof error && message.test(e.message));
    });
  }

  test("every missing credential of the connection is named at once, not only the first", () => {
    assert.throws(
      () => createDriver(undefined, options({ connection: connection(VSPHERE), env: { ...ENV, VCENTER_PASSWORD: undefined, GUEST_PASSWORD: undefined } })),
      (e: Error) =>
        e instanceof MissingCredentialError &&
        e.missing.length === 2 &&
        /^2 credentials from stacks\/Pulumi\.lab\.yaml cannot be resolved:\n/.test(e.message) &&
        /VCENTER_PASSWORD/.test(e.message) &&
        /GUEST_PASSWORD/.test(e.message),
    );
  });

  test("a secret value never appears in the error", () => {
    assert.throws(() => createDriver(undefined, options({ connection: connection(XO), env: { ...ENV, WINRM_PASSWORD: undefined } })), (e: Error) => !/xo-secret|vc-secret/.test(e.message));
  });

  test("the qemu driver takes no other guest channel than its agent", () => {
    assert.throws(
      () => createDriver(undefined, options({ connection: connection({ kind: "qemu", guest: { kind: "ssh", user: "b", keyPath: "/k" } }) })),
      (e: Error) => e instanceof GuestChannelSettingsError && /QEMU guest agent only, got guest.kind ssh/.test(e.message),
    );
  });
});

describe("connection settings from files", () => {
  let root: string;
  const exec = createRecordingExec((command, args) => (command === "pulumi" && args[2] === "vcenterPassword" ? { stdout: "from-pulumi\n" } : command === "pulumi" ? { exitCode: 1, stderr: "configuration key not found" } : undefined));
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "rebake-selection-"));
    await mkdir(path.join(root, "stacks"));
    await writeFile(path.join(root, "stacks/Pulumi.lab.yaml"), [
      "config:",
      "  rebake:target: mcs",
      "  rebake:image: { recipe: win11-mcs, version: 1.0.0 }",
      "  rebake:hypervisor:",
      "    kind: vsphere",
      "    server: vcenter.corp.example",
      "    datacenter: DC1",
      "    username: svc-rebake@vsphere.local",
      "    password: pulumi:vcenterPassword",
      "    datastore: vsanDatastore",
      "    network: VM Network",
      "    hostingUnit: HU-Cluster01",
      "    guest: { kind: winrm, user: Administrator, password: env:WINRM_PASSWORD }",
      "  rebake:mcs:",
      "    goldenVm: { name: W11-GOLD, uuid: 4212a1f2-6b9c-3e8d-1f0a-2b3c4d5e6f70 }",
      "    cvad: { url: https://api.cloud.com, customerId: corp, siteId: 0b4e9c9a-5d35-4b0a-8f15-9d0c4e7c1a11, token: env:CVAD_TOKEN }",
      "    catalogs: [{ name: W11-Pooled, id: 3f1b5a2e-8c7d-4e1f-9a6b-2d4c8e0f1a3b, hostingUnit: HU-Cluster01 }]",
      "",
    ].join("\n"));
    await writeFile(path.join(root, "xo.yaml"), "kind: xenorchestra\nurl: https://xo.lab\ntoken: env:XO_TOKEN\npool: p\ntemplate: t\nisoSr: s\nguest: { kind: ssh, user: builder, keyPath: /k }\n");
    await writeFile(path.join(root, "bad.yaml"), "kind: vsphere\nserver: vc\ndatacenter: DC1\nusername: u\npassword: hunter2\ndatastor: DS\nguest:\n  kind: ssh\n  user: b\n  keyPath: /k\n  password: env:X\n");
  });
  after(() => rm(root, { recursive: true, force: true }));

  test("--stack reads the hypervisor block and its pulumi: secrets with `pulumi config get`", async () => {
    const loaded = await loadConnection({ stack: "lab" }, { cwd: root, exec });
    assert.equal(loaded.connection?.source, "stacks/Pulumi.lab.yaml");
    assert.equal(loaded.connection?.hypervisor.kind, "vsphere");
    assert.deepEqual(exec.calls.at(-1)?.args, ["config", "get", "vcenterPassword", "--stack", "lab"]);
    assert.equal(loaded.pulumiSecret?.("vcenterPassword"), "from-pulumi");
    assert.ok(createDriver(undefined, options({ ...loaded })) instanceof VsphereDriver);
  });

  test("--driver qemu with a remote stack reads none of its secrets", async () => {
    const calls = exec.calls.length;
    const loaded = await loadConnection({ stack: "lab", driver: "qemu" }, { cwd: root, exec });
    assert.equal(exec.calls.length, calls);
    assert.ok(createDriver("qemu", options({ ...loaded })) instanceof QemuDriver);
  });

  test("--hypervisor-config replaces the stack's block", async () => {
    const loaded = await loadConnection({ stack: "lab", hypervisorConfig: "xo.yaml" }, { cwd: root, exec });
    assert.equal(loaded.connection?.source, "xo.yaml");
    assert.ok(createDriver(undefined, options({ ...loaded })) instanceof XoDriver);
  });

  test("an invalid --hypervisor-config lists every problem at file:line:col", async () => {
    await assert.rejects(loadConnection({ hypervisorConfig: "bad.yaml" }, { cwd: root, exec }), (e: Error) => {
      assert.ok(e instanceof StackConfigError);
      assert.match(e.message, /bad\.yaml:6:1 .*unknown key hypervisor\.datastor/);
      assert.match(e.message, /bad\.yaml:11:3 .*unknown key hypervisor\.guest\.password/);
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
  });

  test("a missing --hypervisor-config file is a usage error", async () => {
    await assert.rejects(loadConnection({ hypervisorConfig: "nope.yaml" }, { cwd: root, exec }), (e: Error) => e instanceof UsageError && /--hypervisor-config nope\.yaml: no such file/.test(e.message));
  });

  test("rebake build --driver with an unknown name exits 2 before planning", async () => {
    let stderr = "";
    const code = await main(["build", "no-such-recipe.yaml", "--driver", "hyperv"], { stdout: () => {}, stderr: (t) => (stderr += t), cwd: root, env: {}, isTty: false, signal: new AbortController().signal });
    assert.equal(code, 2);
    assert.match(stderr, /--driver must be one of qemu, vsphere, xenorchestra, got: 'hyperv'/);
  });
});
