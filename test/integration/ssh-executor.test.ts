/**
 * Contract test of the SSH executor: a real OpenSSH sshd on a loopback port, a temp host key and a
 * temp authorized key, for the current user, whose `powershell` is a stand-in that records its
 * arguments and stdin.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { createExec } from "../../src/util/exec.ts";
import { PowerShellError, sshExecutor, type SshTarget } from "../../src/pvs/executor.ts";
import { registerVdiskScript, RESULT_MARKER } from "../../src/pvs/register-script.ts";
import { freePort } from "../../src/util/local-port.ts";

const run = promisify(execFile);

describe("SSH PowerShell executor (contract)", () => {
  let root: string;
  let sshd: ChildProcess;
  let target: SshTarget;
  let log = "";
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "rebake-sshd-"));
    const bin = join(root, "bin");
    await mkdir(bin);
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(root, "host_key")]);
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(root, "client_key")]);
    await writeFile(join(root, "authorized_keys"), await readFile(join(root, "client_key.pub")));
    await writeFile(join(bin, "powershell"), `#!/bin/sh\nprintf '%s\\n' "$@" > "${root}/args"\ncat > "${root}/stdin"\necho '${RESULT_MARKER}{"imported":true}'\n`);
    await chmod(join(bin, "powershell"), 0o755);
    const port = await freePort();
    await writeFile(join(root, "sshd_config"), [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(root, "host_key")}`,
      `AuthorizedKeysFile ${join(root, "authorized_keys")}`,
      `PidFile ${join(root, "sshd.pid")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      `SetEnv PATH=${bin}:/usr/bin:/bin`,
      "",
    ].join("\n"));
    await mkdir("/run/sshd", { recursive: true }).catch(() => undefined);
    sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(root, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
    sshd.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    for (let i = 0; ; i++) {
      const open = await new Promise<boolean>((resolve) => {
        const s = connect(port, "127.0.0.1");
        s.once("connect", () => { s.destroy(); resolve(true); });
        s.once("error", () => resolve(false));
      });
      if (open) break;
      if (i > 100 || sshd.exitCode !== null) throw new Error(`sshd did not start: ${log}`);
      await sleep(50);
    }
    const hostKey = (await readFile(join(root, "host_key.pub"), "utf8")).trim();
    await writeFile(join(root, "known_hosts"), `[127.0.0.1]:${port} ${hostKey}\n`);
    target = { host: "127.0.0.1", user: userInfo().username, port, identityFile: join(root, "client_key"), options: [`UserKnownHostsFile=${join(root, "known_hosts")}`, "StrictHostKeyChecking=yes"] };
  });
  after(async () => {
    if (sshd && sshd.exitCode === null) {
      const exited = new Promise((resolve) => sshd.once("exit", resolve));
      sshd.kill("SIGTERM");
      await exited;
    }
    await rm(root, { recursive: true, force: true });
  });

  it("contract: sends the whole script on stdin to powershell -Command - and returns its output", async () => {
    const script = registerVdiskScript({
      connectionServer: "pvs01", port: 54321, vdiskName: "ws2022-apps-3.2.0", storeName: "Store-HQ", siteName: "HQ",
      serverName: "pvs01", description: "O'Brien's image", writeCacheType: "device-ram-with-overflow-on-disk", writeCacheSizeMiB: 4096, accessMode: "test",
    });
    const result = await sshExecutor(createExec(), target).run(script);
    assert.match(result.stdout, /REBAKE-RESULT \{"imported":true\}/);
    assert.equal(await readFile(join(root, "stdin"), "utf8"), script);
    assert.deepEqual((await readFile(join(root, "args"), "utf8")).trim().split("\n"), ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", "-"]);
  });

  it("contract: an unknown host key is refused with the fix in the message", async () => {
    const stranger = { ...target, options: [`UserKnownHostsFile=${join(root, "empty_known_hosts")}`, "StrictHostKeyChecking=yes"] };
    await assert.rejects(sshExecutor(createExec(), stranger).run("Get-Date"), (error: unknown) => error instanceof PowerShellError && /cannot reach the PVS server over SSH.*known_hosts/s.test(error.message));
  });
});
