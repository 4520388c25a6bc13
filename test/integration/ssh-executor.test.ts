/**
 * Contract test of the SSH executor: a real OpenSSH sshd on a loopback port, a temp host key and a
 * temp authorized key, for the current user, whose `powershell.exe` is a stand-in that records its
 * arguments and stdin and hands both to real pwsh, with the stub Citrix.PVS.SnapIn (generated from
 * Citrix's reference, test/support/pvs-stub.ts) on its module path.
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
import { POWERSHELL_ARGS, PowerShellError, sshExecutor, type SshTarget } from "../../src/pvs/executor.ts";
import { registerVdiskScript, RESULT_MARKER } from "../../src/pvs/register-script.ts";
import { freePort } from "../../src/util/local-port.ts";
import { STUB_LOG_ENV, writeStubModule } from "../support/powershell-stub.ts";
import { PVS_STUB_MODULE } from "../support/pvs-stub.ts";
import { findPwsh } from "../support/pwsh.ts";

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
    await writeFile(join(bin, "powershell.exe"), `#!/bin/sh\nprintf '%s\\n' "$@" > "${root}/args"\ntee "${root}/stdin" | exec "${await findPwsh()}" "$@"\n`);
    await chmod(join(bin, "powershell.exe"), 0o755);
    await writeStubModule(join(root, "modules"), PVS_STUB_MODULE);
    await writeFile(join(root, "calls.jsonl"), "");
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
      `SetEnv PATH=${bin}:/usr/bin:/bin PSModulePath=${join(root, "modules")} ${STUB_LOG_ENV}=${join(root, "calls.jsonl")} NO_COLOR=1 HOME=${root}`,
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

  it("contract: the register script travels whole on stdin to powershell.exe, runs against the stub snap-in and returns its output", async () => {
    const script = registerVdiskScript({
      connectionServer: "pvs01", port: 54321, vdiskName: "ws2022-apps-3.2.0", storeName: "Store-HQ", siteName: "HQ",
      description: "O'Brien's image, Zürich", writeCacheType: "device-ram-with-overflow-on-disk", writeCacheSizeMiB: 4096, accessMode: "production",
    });
    const result = await sshExecutor(createExec(), target).run(script);
    assert.match(result.stdout, new RegExp(`${RESULT_MARKER}.*"imported":true`));
    assert.equal(await readFile(join(root, "stdin"), "utf8"), script);
    assert.deepEqual((await readFile(join(root, "args"), "utf8")).trim().split("\n"), POWERSHELL_ARGS);
    const calls = (await readFile(join(root, "calls.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { cmdlet: string; parameters: Record<string, unknown> });
    assert.deepEqual(calls.map((c) => c.cmdlet), ["Add-PSSnapin", "Set-PvsConnection", "Get-PvsDiskLocator", "New-PvsDiskLocator", "Set-PvsDisk"]);
    assert.equal(calls[3]?.parameters.Description, "O'Brien's image, Zürich");
  });

  it("contract: a script that fails halfway exits non-zero over SSH and runs nothing after the failure", async () => {
    await assert.rejects(
      sshExecutor(createExec(), target).run("$ErrorActionPreference = 'Stop'\r\nWrite-Output 'before'\r\nGet-Item -LiteralPath '/no/such/file'\r\n[Console]::Error.WriteLine('after')\r\n"),
      (error: unknown) => error instanceof PowerShellError && /failed on .* with exit code 1/.test(error.message) && !/after/.test(error.message),
    );
  });

  it("contract: an unknown host key is refused with the fix in the message", async () => {
    const stranger = { ...target, options: [`UserKnownHostsFile=${join(root, "empty_known_hosts")}`, "StrictHostKeyChecking=yes"] };
    await assert.rejects(sshExecutor(createExec(), stranger).run("Get-Date"), (error: unknown) => error instanceof PowerShellError && /cannot reach the PVS server over SSH.*known_hosts/s.test(error.message));
  });
});
