/**
 * The SSH channel's decisions with a recording exec: reboot waits for a new boot id, Windows
 * guests get a PowerShell bootstrap with the script on stdin, ssh's 255 is told apart from the
 * command's. The real ssh/sshd behaviour is in test/integration/ssh-guest.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GuestDisconnectedError, GuestTimeoutError } from "../../src/guest/channel.ts";
import { PidMarkerFilter, remoteCommand, withoutPidMarker } from "../../src/guest/ssh/remote-command.ts";
import { sshArguments } from "../../src/guest/ssh/ssh-arguments.ts";
import { SshChannel } from "../../src/guest/ssh/ssh-channel.ts";
import { SshHostKeyError } from "../../src/guest/ssh/ssh-errors.ts";
import { createRecordingExec, type ExecResult } from "../../src/util/exec.ts";

const MARKER = "rebake-pid 4242\n";
const target = { host: "10.0.0.5", port: 2222, user: "builder", keyPath: "/keys/id", knownHostsPath: "/run/build/known_hosts" };

function channel(answer: (remote: string, args: readonly string[]) => Partial<ExecResult> | undefined, os: "linux" | "windows" = "linux") {
  const exec = createRecordingExec((_command, args) => answer(args.at(-1) ?? "", args));
  return { exec, channel: new SshChannel({ ...target, os, exec }) };
}

describe("ssh arguments", () => {
  test("use only the given key, never prompt, and pin host keys in the build's known_hosts", () => {
    const args = sshArguments(target, "echo hi", false);
    for (const option of ["BatchMode=yes", "IdentitiesOnly=yes", "StrictHostKeyChecking=accept-new", "UserKnownHostsFile=/run/build/known_hosts", "GlobalKnownHostsFile=/dev/null"]) {
      assert.ok(args.includes(option), option);
    }
    assert.deepEqual(args.slice(0, 4), ["-F", "none", "-i", "/keys/id"]);
    assert.deepEqual(args.slice(-8), ["-p", "2222", "-l", "builder", "-n", "--", "10.0.0.5", "echo hi"]);
  });
});

describe("remote commands", () => {
  const table = [
    { os: "linux", shell: "sh", script: "echo 'a'", command: /^echo "rebake-pid \$\$" >&2; exec sh -c 'echo '\\''a'\\''' <\/dev\/null$/, input: undefined },
    { os: "windows", shell: "powershell", script: "Get-Date", command: /^powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand [A-Za-z0-9+/=]+$/, input: "Get-Date" },
    { os: "windows", shell: "cmd", script: "dir", command: /-EncodedCommand /, input: "dir" },
  ] as const;
  for (const row of table) {
    test(`${row.shell} on ${row.os} runs as expected`, () => {
      const remote = remoteCommand(row.os, row.shell, row.script);
      assert.match(remote.command, row.command);
      assert.equal(remote.input, row.input);
      assert.ok(remote.command.length < 8191, "fits cmd.exe's command line");
    });
  }

  test("the Windows bootstrap reports its pid, reads the script from stdin and runs it from a temp file", () => {
    const encoded = remoteCommand("windows", "cmd", "dir").command.split(" ").at(-1)!;
    const bootstrap = Buffer.from(encoded, "base64").toString("utf16le");
    assert.match(bootstrap, /\[Console\]::Error\.WriteLine\('rebake-pid ' \+ \$PID\)/);
    assert.match(bootstrap, /OpenStandardInput/);
    assert.match(bootstrap, /& cmd\.exe \/d \/c \$file/);
    assert.match(bootstrap, /exit \$LASTEXITCODE/);
  });

  test("mismatched shell and OS are refused", () => {
    assert.throws(() => remoteCommand("linux", "cmd", "dir"), /needs a Windows guest/);
    assert.throws(() => remoteCommand("windows", "sh", "ls"), /needs a Linux guest/);
  });

  test("the pid marker is taken out of stderr even when split across chunks", () => {
    const filter = new PidMarkerFilter();
    const passed = ["login noise\nrebake-p", "id 77\r", "\nreal error\n"].map((chunk) => filter.filter(chunk)).join("") + filter.flush();
    assert.equal(filter.pid, 77);
    assert.equal(passed, "login noise\nreal error\n");
    assert.equal(withoutPidMarker(`${MARKER}boom\n`), "boom\n");
  });
});

describe("SSH channel with a recording exec", () => {
  test("reboot waits through the dropped connection until a new boot id answers", async () => {
    const bootIds = ["boot-A", "down", "boot-A", "boot-B"];
    const { exec, channel: ssh } = channel((remote) => {
      if (remote.includes("boot_id")) {
        const next = bootIds.shift();
        return next === "down" ? { exitCode: 255, stderr: "ssh: connect to host 10.0.0.5 port 2222: Connection refused\n" } : { stdout: `${next}\n`, stderr: MARKER };
      }
      if (remote.includes("reboot")) return { exitCode: 255, stderr: `${MARKER}Connection to 10.0.0.5 closed by remote host.\n` };
      return undefined;
    });
    await ssh.reboot(30_000);
    assert.equal(bootIds.length, 0, "polled until the boot id changed");
    assert.match(exec.calls[1]!.args.at(-1)!, /if \[ "\$\(id -u\)" -eq 0 \]; then reboot; else sudo -n reboot; fi/);
  });

  test("reboot times out naming the boot id it still sees", async () => {
    const { channel: ssh } = channel((remote) => (remote.includes("boot_id") ? { stdout: "same\n", stderr: MARKER } : { stderr: MARKER }));
    await assert.rejects(ssh.reboot(1_200), (error: unknown) => error instanceof GuestTimeoutError && /new boot id: not within 1200 ms \(last: still boot id same\)/.test((error as Error).message));
  });

  test("a refused sudo is reported, not mistaken for a reboot", async () => {
    const { channel: ssh } = channel((remote) => (remote.includes("boot_id") ? { stdout: "A\n", stderr: MARKER } : { exitCode: 1, stderr: `${MARKER}sudo: a password is required\n` }));
    await assert.rejects(ssh.reboot(5_000), /failed with exit code 1: sudo: a password is required \(a non-root account needs passwordless sudo/);
  });

  const failures = [
    { name: "a changed host key", stderr: "@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.\n", error: SshHostKeyError, message: /remove its line from \/run\/build\/known_hosts/ },
    { name: "a refused connection", stderr: "ssh: connect to host 10.0.0.5 port 2222: Connection refused\n", error: GuestDisconnectedError, message: /Connection refused/ },
  ];
  for (const row of failures) {
    test(`exec reports ${row.name} before the command started`, async () => {
      const { channel: ssh } = channel(() => ({ exitCode: 255, stderr: row.stderr }));
      await assert.rejects(ssh.exec("true", { shell: "sh", timeoutMs: 1_000 }), (error: unknown) => error instanceof row.error && row.message.test((error as Error).message));
    });
  }

  test("a connection that drops mid-command is a disconnect, not exit code 255", async () => {
    const { channel: ssh } = channel(() => ({ exitCode: 255, stderr: `${MARKER}client_loop: send disconnect: Broken pipe\n` }));
    await assert.rejects(ssh.exec("long-job", { shell: "sh", timeoutMs: 1_000 }), GuestDisconnectedError);
  });

  test("a host looked up from the hypervisor is retried until the VM has an address", async () => {
    const addresses = [undefined, undefined, "10.0.0.9"];
    const exec = createRecordingExec(() => ({ stdout: "rebake-ready\n" }));
    const ssh = new SshChannel({ ...target, host: async () => addresses.shift(), keyPath: import.meta.filename, exec });
    await ssh.waitReady(10_000);
    assert.equal(exec.calls.length, 1);
    assert.ok(exec.calls[0]!.args.includes("10.0.0.9"));
  });

  test("uploads from Windows guests are hashed with Get-FileHash", async () => {
    const { exec, channel: ssh } = channel(() => ({ stdout: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n" }), "windows");
    const { sha256 } = await ssh.upload("/dev/null", "C:/Windows/Temp/empty.bin");
    assert.equal(sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(exec.calls[0]!.command, "scp");
    assert.equal(exec.calls[0]!.args.at(-1), "builder@10.0.0.5:C:/Windows/Temp/empty.bin");
    assert.equal(exec.calls[1]!.options?.input, "(Get-FileHash -Algorithm SHA256 -LiteralPath 'C:/Windows/Temp/empty.bin').Hash.ToLower()");
  });
});
