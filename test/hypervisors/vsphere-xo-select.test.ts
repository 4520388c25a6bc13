import { test } from "node:test";
import assert from "node:assert/strict";
import { createDriver, isHypervisorName, UnknownHypervisorError } from "../../src/hypervisors/select.ts";
import { createRecordingExec } from "../../src/util/exec.ts";

const deps = { runtimeDir: "/tmp/rebake-select", env: { VS_USER: "u", VS_PASS: "p", XO_TOKEN: "t" }, log: () => {}, exec: createRecordingExec() };

for (const { name, settings } of [
  { name: "qemu", settings: {} },
  { name: "vsphere", settings: { url: "https://vc/sdk", datacenter: "DC", datastore: "DS", network: "Net", credentials: { usernameEnv: "VS_USER", passwordEnv: "VS_PASS" } } },
  { name: "xenorchestra", settings: { url: "https://xo", tokenEnv: "XO_TOKEN", pool: "p", template: "t", isoSr: "s" } },
] as const) {
  test(`createDriver("${name}") builds the ${name} driver`, () => {
    assert.equal(createDriver(name, settings as never, deps).name, name);
  });
}

test("an unknown hypervisor name lists the known ones", () => {
  assert.equal(isHypervisorName("hyperv"), false);
  assert.throws(() => createDriver("hyperv" as never, {} as never, deps), (e: Error) => e instanceof UnknownHypervisorError && /one of qemu, vsphere, xenorchestra, got: 'hyperv'/.test(e.message));
});

test("a remote driver without its credential variable fails when created, naming the variable", () => {
  assert.throws(
    () => createDriver("xenorchestra", { url: "https://xo", tokenEnv: "MISSING_TOKEN", pool: "p", template: "t", isoSr: "s" }, deps),
    /MISSING_TOKEN \(Xen Orchestra token/,
  );
});
