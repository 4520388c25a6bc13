import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FirmwareNotFoundError, findUefiFirmware } from "../../src/hypervisors/qemu/firmware.ts";

describe("findUefiFirmware", () => {
  const cases = [
    { name: "prefers the 4M build", secure: false, files: ["OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd", "OVMF_CODE.fd", "OVMF_VARS.fd"], code: "/fw/OVMF_CODE_4M.fd", vars: "/fw/OVMF_VARS_4M.fd" },
    { name: "falls back to the 2M build", secure: false, files: ["OVMF_CODE.fd", "OVMF_VARS.fd"], code: "/fw/OVMF_CODE.fd", vars: "/fw/OVMF_VARS.fd" },
    { name: "uses the Microsoft-keys variant for secure boot", secure: true, files: ["OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd", "OVMF_CODE_4M.ms.fd", "OVMF_VARS_4M.ms.fd"], code: "/fw/OVMF_CODE_4M.ms.fd", vars: "/fw/OVMF_VARS_4M.ms.fd" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const present = new Set(c.files.map((file) => `/fw/${file}`));
      assert.deepEqual(findUefiFirmware(c.secure, { dirs: ["/fw"], exists: (file) => present.has(file) }), { code: c.code, varsTemplate: c.vars, secureBoot: c.secure });
    });
  }

  it("names the package to install when nothing is found", () => {
    assert.throws(() => findUefiFirmware(true, { dirs: ["/fw"], exists: () => false }), (error: Error) => error instanceof FirmwareNotFoundError && /secure boot UEFI firmware .* in \/fw: install the Debian package ovmf/.test(error.message));
  });
});
