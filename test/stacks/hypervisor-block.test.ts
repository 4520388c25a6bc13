import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseStack, StackConfigError } from "../../src/stacks/load-stack.ts";

const FILE = "stacks/Pulumi.lab.yaml";

/** A PVS stack whose hypervisor block (lines 4+) is `hypervisor`, indented by the caller. */
function stack(hypervisor: string): string {
  return `config:
  rebake:target: pvs
  rebake:image: {recipe: ws2022-pvs, version: 3.2.0}
  rebake:hypervisor:
${hypervisor}
  rebake:pvs:
    server: pvs01.corp.example
    executor: {kind: local}
    accessMode: test
    sites:
      - {name: HQ, server: pvs01.corp.example, collection: Apps, store: {name: S, location: /srv/store}}
`;
}

describe("the build settings of a stack's hypervisor block", () => {
  it("reads vSphere placement, hosting unit and a WinRM guest channel", () => {
    const config = parseStack(stack(`    kind: vsphere
    server: vc.corp.example
    url: https://vc.corp.example:8443/sdk
    datacenter: DC1
    username: svc
    password: pulumi:vcenterPassword
    datastore: vsanDatastore
    network: VM Network
    resourcePool: /DC1/host/Cluster01/Resources
    folder: rebake
    hostingUnit: HU-Cluster01
    markAsTemplate: true
    guest: {kind: winrm, user: Administrator, password: env:WINRM_PASSWORD, https: true}`), FILE, "lab");
    assert.deepEqual(config.hypervisor, {
      kind: "vsphere",
      server: "vc.corp.example",
      url: "https://vc.corp.example:8443/sdk",
      datacenter: "DC1",
      username: "svc",
      password: "pulumi:vcenterPassword",
      insecure: false,
      datastore: "vsanDatastore",
      network: "VM Network",
      resourcePool: "/DC1/host/Cluster01/Resources",
      folder: "rebake",
      hostingUnit: "HU-Cluster01",
      markAsTemplate: true,
      guest: { kind: "winrm", user: "Administrator", password: "env:WINRM_PASSWORD", https: true },
    });
  });

  it("reads Xen Orchestra's pool, template, ISO SR and an SSH guest channel", () => {
    const config = parseStack(stack(`    kind: xenorchestra
    url: https://xo.corp.example
    token: env:XO_TOKEN
    pool: 355ee47d-ff4c-4924-3db2-fd86ae629676
    template: d1b3c9f0-7a2e-4c55-9a4e-0c8e3f6b2a10
    isoSr: a5954951-3dfa-42b8-803f-4bc270b22a0b
    guest: {kind: ssh, user: builder, keyPath: /secrets/build_ed25519}`), FILE, "lab");
    assert.equal(config.hypervisor.kind === "xenorchestra" && config.hypervisor.isoSr, "a5954951-3dfa-42b8-803f-4bc270b22a0b");
    assert.deepEqual(config.hypervisor.kind === "xenorchestra" && config.hypervisor.guest, { kind: "ssh", user: "builder", keyPath: "/secrets/build_ed25519" });
  });

  for (const { name, hypervisor, expected } of [
    {
      name: "a guest password written as a value",
      hypervisor: "    kind: xenorchestra\n    url: https://xo.corp.example\n    token: env:XO_TOKEN\n    guest:\n      kind: winrm\n      user: Administrator\n      password: hunter2",
      expected: [/Pulumi\.lab\.yaml:11:17 +stack-secret-literal +a credential must be a secret reference/],
    },
    {
      name: "a guest channel the driver cannot use",
      hypervisor: "    kind: xenorchestra\n    url: https://xo.corp.example\n    token: env:XO_TOKEN\n    guest: {kind: vmware-tools, user: root, password: env:P}",
      expected: [/Pulumi\.lab\.yaml:8:19 +stack-guest-channel +guest\.kind vmware-tools does not work with the xenorchestra driver.*use one of ssh, winrm/],
    },
    {
      name: "a misspelt build setting and an unknown guest kind",
      hypervisor: "    kind: vsphere\n    server: vc\n    datacenter: DC1\n    username: svc\n    password: env:P\n    datastor: DS\n    guest: {kind: rdp}",
      expected: [/:10:5 +stack-unknown-key +unknown key rebake:hypervisor\.datastor.*did you mean 'datastore'/, /:11:19 +stack-enum +rebake:hypervisor\.guest\.kind must be one of qga, vmware-tools, ssh, winrm/],
    },
  ]) {
    it(`reports ${name} at file:line:col`, () => {
      assert.throws(() => parseStack(stack(hypervisor), FILE, "lab"), (e: Error) => {
        assert.ok(e instanceof StackConfigError);
        for (const pattern of expected) assert.match(e.message, pattern);
        assert.doesNotMatch(e.message, /hunter2/);
        return true;
      });
    });
  }
});
