import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createGuestChannel, guestChannelProblems, GuestChannelSettingsError, type GuestChannelSettings } from "../../src/guest/guest-channel-settings.ts";
import { SshChannel } from "../../src/guest/ssh/ssh-channel.ts";
import { WinrmChannel } from "../../src/guest/winrm/winrm-channel.ts";
import { startWinrmContractHost } from "./winrm-contract-host.ts";
import { createRecordingExec } from "../../src/util/exec.ts";

const ENV = { WINRM_PW: "s3cret-value" };

describe("guest channel settings", () => {
  const invalid: { name: string; settings: unknown; problem: RegExp }[] = [
    { name: "an SSH password", settings: { kind: "ssh", user: "u", keyPath: "/k", passwordEnv: "PW" }, problem: /SSH password authentication is not supported; set guest.keyPath/ },
    { name: "an SSH account without a key", settings: { kind: "ssh", user: "u", keyPath: "" }, problem: /guest.keyPath must name a private key file/ },
    { name: "a WinRM password in the stack", settings: { kind: "winrm", user: "u", passwordEnv: "WINRM_PW", password: "x" }, problem: /put the password in an environment variable/ },
    { name: "an unset WinRM password variable", settings: { kind: "winrm", user: "Administrator", passwordEnv: "NOT_SET" }, problem: /environment variable NOT_SET \(WinRM password for Administrator\) is not set/ },
    { name: "a bad port", settings: { kind: "ssh", user: "u", keyPath: "/k", port: 70000 }, problem: /guest.port must be 1-65535, got: 70000/ },
    { name: "an unknown kind", settings: { kind: "telnet" }, problem: /guest.kind must be one of qga, vmware-tools, ssh, winrm, got: 'telnet'/ },
  ];
  for (const row of invalid) {
    test(`rejects ${row.name}`, () => {
      const problems = guestChannelProblems(row.settings as GuestChannelSettings, ENV);
      assert.ok(problems.some((p) => row.problem.test(p)), problems.join("\n"));
      assert.throws(() => createGuestChannel(row.settings as GuestChannelSettings, { runtimeDir: "/run/b", env: ENV }), GuestChannelSettingsError);
    });
  }

  test("never puts a secret's value in an error", () => {
    const problems = guestChannelProblems({ kind: "winrm", user: "u", passwordEnv: "WINRM_PW", url: "ftp://x" }, ENV);
    assert.ok(problems.length > 0);
    assert.ok(!problems.join(" ").includes(ENV.WINRM_PW));
  });

  test("ssh without a host connects to the address the hypervisor reports, pinning keys in the runtime dir", async () => {
    const exec = createRecordingExec(() => ({ stdout: "ok\n", stderr: "rebake-pid 1\n" }));
    const channel = createGuestChannel({ kind: "ssh", user: "builder", keyPath: "/k" }, { runtimeDir: "/run/b", env: {}, exec, address: async () => "10.1.2.3" });
    assert.ok(channel instanceof SshChannel);
    await channel.exec("true", { shell: "sh", timeoutMs: 1_000 });
    assert.ok(exec.calls[0]!.args.includes("10.1.2.3"));
    assert.ok(exec.calls[0]!.args.includes("UserKnownHostsFile=/run/b/ssh_known_hosts"));
  });

  test("ssh or winrm without an address source or a fixed host is refused", () => {
    assert.throws(() => createGuestChannel({ kind: "ssh", user: "u", keyPath: "/k" }, { runtimeDir: "/r", env: {} }), /needs the VM's address/);
  });

  test("qga and vmware-tools need their driver's handles", () => {
    assert.throws(() => createGuestChannel({ kind: "qga" }, { runtimeDir: "/r", env: {} }), /use it with the qemu driver/);
    assert.throws(() => createGuestChannel({ kind: "vmware-tools" }, { runtimeDir: "/r", env: {} }), /use it with the vsphere driver/);
  });

  test("contract: winrm reads the password from the named variable and reaches the endpoint built from the VM's address", async () => {
    const host = await startWinrmContractHost({ user: "Administrator", password: ENV.WINRM_PW });
    try {
      const port = Number(new URL(host.url).port);
      const channel = createGuestChannel({ kind: "winrm", user: "Administrator", passwordEnv: "WINRM_PW", port }, { runtimeDir: "/r", env: ENV, address: async () => "127.0.0.1" });
      assert.ok(channel instanceof WinrmChannel);
      await channel.waitReady(5_000);
      assert.deepEqual(host.violations, []);
    } finally {
      await host.stop();
    }
  });
});
