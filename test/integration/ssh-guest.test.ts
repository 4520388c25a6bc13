/**
 * The SSH guest channel against a real OpenSSH server on 127.0.0.1, the guest being this machine:
 * real ssh and scp, real exit codes, real host key pinning, real process kills.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { GuestTimeoutError } from "../../src/guest/channel.ts";
import { SshChannel } from "../../src/guest/ssh/ssh-channel.ts";
import { SshAuthError, SshCommandTimeoutError } from "../../src/guest/ssh/ssh-errors.ts";
import { startSshd, type Sshd } from "../support/sshd.ts";

let sshd: Sshd;
let work: string;

function channel(overrides: Partial<ConstructorParameters<typeof SshChannel>[0]> = {}): SshChannel {
  return new SshChannel({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    keyPath: sshd.keyPath,
    knownHostsPath: path.join(work, "known_hosts"),
    ...overrides,
  });
}

/** True once no process has this pid (polled: the kill travels over a second connection). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await sleep(100);
  }
  return false;
}

describe("SSH guest channel against a real sshd", () => {
  before(async () => {
    sshd = await startSshd();
    work = await mkdtemp(path.join(tmpdir(), "rebake-ssh-guest-"));
  });
  after(async () => {
    await sshd?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const cases = [
    { name: "prints to stdout and exits 0", script: "echo hello", exitCode: 0, stdout: "hello\n", stderr: "" },
    { name: "fails with code 3 and its stderr", script: "echo oops >&2; exit 3", exitCode: 3, stdout: "", stderr: "oops\n" },
    { name: "keeps quotes and newlines of a multi-line script", script: "x=\"it's\"\nprintf '%s|%s\\n' \"$x\" 'a b'", exitCode: 0, stdout: "it's|a b\n", stderr: "" },
    { name: "runs with an empty stdin, so nothing waits for input", script: "cat; echo done", exitCode: 0, stdout: "done\n", stderr: "" },
    { name: "reports a remote exit 255 as the command's code", script: "exit 255", exitCode: 255, stdout: "", stderr: "" },
  ];
  for (const c of cases) {
    test(`exec ${c.name}`, async () => {
      const streamed: string[] = [];
      const result = await channel().exec(c.script, { shell: "sh", timeoutMs: 20_000, onOutput: (chunk, stream) => streamed.push(`${stream}:${chunk}`) });
      assert.deepEqual(result, { exitCode: c.exitCode, stdout: c.stdout, stderr: c.stderr });
      assert.equal(streamed.filter((s) => s.startsWith("stdout:")).map((s) => s.slice(7)).join(""), c.stdout);
      assert.equal(streamed.filter((s) => s.startsWith("stderr:")).map((s) => s.slice(7)).join(""), c.stderr, "the pid marker never reaches the step log");
    });
  }

  test("the first connection pins the host key in the build's known_hosts", async () => {
    await channel().exec("true", { shell: "sh", timeoutMs: 20_000 });
    const knownHosts = await readFile(path.join(work, "known_hosts"), "utf8");
    assert.match(knownHosts, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `, "m"));
  });

  test("upload copies the file and returns the sha256 the guest computed", async () => {
    const local = path.join(work, "installer.bin");
    const content = randomBytes(300 * 1024 + 7);
    await writeFile(local, content);
    const guestPath = path.join(work, "in the guest", "setup file.bin");
    await channel().exec(`mkdir -p '${path.dirname(guestPath)}'`, { shell: "sh", timeoutMs: 20_000 });
    const { sha256 } = await channel().upload(local, guestPath);
    assert.equal(sha256, createHash("sha256").update(content).digest("hex"));
    assert.deepEqual(await readFile(guestPath), content);
  });

  test("a timeout kills the remote command and everything it started", async () => {
    const pids = path.join(work, "timeout-pids");
    await assert.rejects(
      // Long enough for ssh to connect and start the command on a busy machine, well short of sleep 30.
      channel().exec(`sleep 30 & echo "$$ $!" > '${pids}'; wait`, { shell: "sh", timeoutMs: 10_000 }),
      (error: unknown) => error instanceof SshCommandTimeoutError && error instanceof GuestTimeoutError && /did not finish within 10000 ms and was killed/.test(error.message),
    );
    const [shellPid, sleepPid] = (await readFile(pids, "utf8")).trim().split(" ").map(Number);
    assert.ok(await gone(shellPid!), `the remote shell ${shellPid} was killed`);
    assert.ok(await gone(sleepPid!), `its child ${sleepPid} was killed`);
  });

  test("an abort kills the remote command and rejects with the abort's reason", async () => {
    const pids = path.join(work, "abort-pids");
    const controller = new AbortController();
    const running = channel().exec(`echo $$ > '${pids}'; sleep 30`, { shell: "sh", timeoutMs: 60_000, signal: controller.signal });
    // Abort once the command is running in the guest (its pid file is there), not after a guess.
    while (!(await readFile(pids, "utf8").catch(() => "")).trim()) await sleep(50);
    controller.abort(new Error("SIGINT"));
    await assert.rejects(running, /SIGINT/);
    assert.ok(await gone(Number((await readFile(pids, "utf8")).trim())));
  });

  test("waitReady keeps trying until an sshd that starts late answers", async () => {
    const late = await startSshd({ start: false });
    try {
      const ready = channel({ port: late.port, keyPath: late.keyPath, knownHostsPath: path.join(work, "late_known_hosts") }).waitReady(30_000);
      await sleep(1_500);
      await late.start();
      await ready;
    } finally {
      await late.stop();
    }
  });

  test("waitReady times out naming what it waited for", async () => {
    const nobody = await startSshd({ start: false });
    await nobody.stop();
    await assert.rejects(
      channel({ port: nobody.port }).waitReady(1_500),
      (error: unknown) => error instanceof GuestTimeoutError && /SSH server of .*127\.0\.0\.1.*not ready within 1500 ms \(last: .*Connection refused/.test((error as Error).message),
    );
  });

  test("a key the guest does not accept fails saying password authentication is not supported", async () => {
    const other = await startSshd({ start: false });
    try {
      await assert.rejects(
        channel({ keyPath: other.keyPath }).exec("true", { shell: "sh", timeoutMs: 20_000 }),
        (error: unknown) => error instanceof SshAuthError && /is not authorized.*Password authentication is not supported/s.test((error as Error).message),
      );
    } finally {
      await other.stop();
    }
  });

  test("windows shells are refused on a linux guest before connecting", async () => {
    await assert.rejects(channel().exec("Get-Date", { shell: "powershell", timeoutMs: 1_000 }), /needs a Windows guest/);
  });
});
