/**
 * The rebake test OS for real under QEMU (TCG): scripts/build-testos.sh builds the ISO (cached),
 * the installer reads NoCloud answers from a CIDATA CD, installs onto a virtio disk and powers
 * off; the disk then boots and its guest agent answers. Raw QEMU command lines and a minimal
 * agent client, no rebake driver: this pins what testos/README.md promises the drivers.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { App } from "../../src/recipe/model.ts";
import { LINUX_REBOOT_CODE, withLinuxRebootCheck } from "../../src/recipe/step-commands.ts";
import { createExec } from "../../src/util/exec.ts";
import { cidataIso, type Seed } from "../support/cidata.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const BUILD_TIMEOUT_MS = 15 * 60_000;
const INSTALL_TIMEOUT_MS = 240_000;
const BOOT_TIMEOUT_MS = 180_000;
const SHUTDOWN_TIMEOUT_MS = 60_000;
const AGENT_REPLY_TIMEOUT_MS = 30_000;
const SYNC_ATTEMPT_MS = 2_000;
const EXEC_POLL_MS = 200;
const AGENT_PORT = "org.qemu.guest_agent.0";
const GUEST_UPLOAD_DIR = "/var/tmp/rebake-testos-test";
const PVS_STANDIN = "pvs-target-device-standin-0.1.0";
const exec = createExec();


function machineArgs(serialLog: string): string[] {
  return ["-accel", "tcg", "-machine", "pc", "-m", "512", "-smp", "2", "-display", "none", "-monitor", "none", "-serial", `file:${serialLog}`];
}

function diskArgs(disk: string): string[] {
  return ["-drive", `if=none,id=hd0,file=${disk},format=qcow2`, "-device", "virtio-blk-pci,drive=hd0,bootindex=1"];
}

function installArgs(iso: string, cidata: string, disk: string, serialLog: string): string[] {
  return [
    ...machineArgs(serialLog),
    "-drive", `if=none,id=cd0,file=${iso},media=cdrom,readonly=on`, "-device", "ide-cd,drive=cd0,bootindex=0",
    "-drive", `if=none,id=cd1,file=${cidata},media=cdrom,readonly=on`, "-device", "ide-cd,drive=cd1",
    ...diskArgs(disk),
  ];
}

function bootArgs(disk: string, agentSocket: string, serialLog: string): string[] {
  return [
    ...machineArgs(serialLog),
    ...diskArgs(disk),
    "-device", "virtio-serial-pci",
    "-chardev", `socket,id=qga0,path=${agentSocket},server=on,wait=off`,
    "-device", `virtserialport,chardev=qga0,name=${AGENT_PORT}`,
  ];
}

/** Runs an install to its power-off and returns the serial log; QEMU is killed on timeout. */
async function install(iso: string, dir: string, seed: Seed): Promise<{ readonly serial: string; readonly disk: string; readonly ms: number }> {
  const cidata = await cidataIso(dir, seed);
  const disk = path.join(dir, "disk.qcow2");
  const serialLog = path.join(dir, "install.log");
  await exec("qemu-img", ["create", "-q", "-f", "qcow2", disk, "4G"]);
  const started = Date.now();
  await exec("qemu-system-x86_64", installArgs(iso, cidata, disk, serialLog), { timeoutMs: INSTALL_TIMEOUT_MS });
  return { serial: await readFile(serialLog, "utf8"), disk, ms: Date.now() - started };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`QEMU did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

type Reply = { readonly return?: unknown; readonly error?: { readonly class: string; readonly desc: string } };

/**
 * Just enough of the QEMU guest agent protocol: one JSON object per line each way; replies to
 * guest-sync-delimited are preceded by 0xFF, which also resets the agent's parser when sent.
 */
class AgentClient {
  private pending = Buffer.alloc(0);
  private readonly replies: Reply[] = [];
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      let newline: number;
      while ((newline = this.pending.indexOf(0x0a)) >= 0) {
        const line = Buffer.from(this.pending.subarray(0, newline).filter((byte) => byte !== 0xff)).toString("utf8").trim();
        this.pending = this.pending.subarray(newline + 1);
        if (line) this.replies.push(JSON.parse(line) as Reply);
      }
      this.wake?.();
    });
  }

  static async connect(socketPath: string, timeoutMs: number): Promise<AgentClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.createConnection(socketPath, () => resolve(s));
          s.once("error", reject);
        });
        return new AgentClient(socket);
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`no agent socket at ${socketPath} within ${timeoutMs} ms: ${(error as Error).message}`);
        await delay(EXEC_POLL_MS);
      }
    }
  }

  private async nextReply(timeoutMs: number): Promise<Reply | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.replies.shift();
  }

  /** Retries guest-sync-delimited until the agent echoes our id (it starts late and may lose input). */
  async sync(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let id = 1; Date.now() < deadline; id++) {
      this.socket.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(`${JSON.stringify({ execute: "guest-sync-delimited", arguments: { id } })}\n`)]));
      const attemptEnd = Date.now() + SYNC_ATTEMPT_MS;
      for (let reply = await this.nextReply(SYNC_ATTEMPT_MS); reply; reply = await this.nextReply(attemptEnd - Date.now())) {
        if (reply.return === id) return;
      }
    }
    throw new Error(`the guest agent did not answer guest-sync-delimited within ${timeoutMs} ms`);
  }

  async call(execute: string, args?: object): Promise<unknown> {
    this.socket.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
    const reply = await this.nextReply(AGENT_REPLY_TIMEOUT_MS);
    if (!reply) throw new Error(`${execute}: no reply within ${AGENT_REPLY_TIMEOUT_MS} ms`);
    if (reply.error) throw new Error(`${execute}: ${reply.error.class}: ${reply.error.desc}`);
    return reply.return;
  }

  /** guest-shutdown has no reply on success: the guest goes down. */
  sendOnly(execute: string, args?: object): void {
    this.socket.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
  }

  async sh(script: string): Promise<{ readonly exitCode: number; readonly stdout: string; readonly stderr: string }> {
    const { pid } = (await this.call("guest-exec", { path: "/bin/sh", arg: ["-c", script], "capture-output": true })) as { pid: number };
    for (;;) {
      const status = (await this.call("guest-exec-status", { pid })) as { exited: boolean; exitcode?: number; "out-data"?: string; "err-data"?: string };
      if (status.exited) {
        return {
          exitCode: status.exitcode ?? -1,
          stdout: Buffer.from(status["out-data"] ?? "", "base64").toString("utf8"),
          stderr: Buffer.from(status["err-data"] ?? "", "base64").toString("utf8"),
        };
      }
      await delay(EXEC_POLL_MS);
    }
  }

  async upload(content: Buffer, guestPath: string): Promise<void> {
    const handle = await this.call("guest-file-open", { path: guestPath, mode: "w" });
    await this.call("guest-file-write", { handle, "buf-b64": content.toString("base64") });
    await this.call("guest-file-close", { handle });
  }

  close(): void {
    this.socket.destroy();
  }
}

describe("rebake test OS under QEMU", () => {
  let iso = "";
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "testos-"));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    const { stdout } = await exec("bash", [path.join(REPO, "scripts/build-testos.sh")], { timeoutMs: BUILD_TIMEOUT_MS });
    iso = stdout.trim().split("\n").at(-1) ?? "";
  }, { timeout: BUILD_TIMEOUT_MS });

  after(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("builds a bootable ISO under 100 MB, cached on a second run", async () => {
    const { size } = await stat(iso);
    assert.ok(size < 100 * 1024 * 1024, `ISO is ${size} bytes`);
    const again = await exec("bash", [path.join(REPO, "scripts/build-testos.sh")], { timeoutMs: BUILD_TIMEOUT_MS });
    assert.match(again.stderr, /up to date/);
    assert.equal(again.stdout.trim(), iso);
  });

  const rejected: readonly { readonly name: string; readonly userData: string; readonly reason: RegExp }[] = [
    { name: "a host name with an underscore", userData: "#cloud-config\nhostname: bad_name\n", reason: /hostname 'bad_name' is not a valid host name/ },
    { name: "user-data that is not #cloud-config", userData: "#!/bin/sh\necho hi\n", reason: /does not start with #cloud-config/ },
  ];
  for (const { name, userData, reason } of rejected) {
    it(`fails the install with the reason and powers off for ${name}`, { timeout: INSTALL_TIMEOUT_MS + 10_000 }, async () => {
      const { serial } = await install(iso, await tempDir(), { metaData: "instance-id: bad\n", userData });
      assert.match(serial, /REBAKE-TESTOS-INSTALL: FAILED: /, serial.slice(-2000));
      assert.match(serial, reason);
      assert.doesNotMatch(serial, /REBAKE-TESTOS-INSTALL: OK/);
    });
  }

  it("installs from the NoCloud answers, boots from disk and serves the guest agent", { timeout: INSTALL_TIMEOUT_MS + BOOT_TIMEOUT_MS + SHUTDOWN_TIMEOUT_MS + 60_000 }, async (t) => {
    const dir = await tempDir();
    const seed: Seed = {
      metaData: "instance-id: iid-testos-1\nlocal-hostname: from-meta-data\n",
      userData: "#cloud-config\nhostname: rebake-it  # user-data wins over meta-data\ntimezone: Europe/Berlin\npower_state:\n  mode: poweroff\n",
    };
    const installed = await install(iso, dir, seed);
    assert.match(installed.serial, /REBAKE-TESTOS-INSTALL: OK hostname=rebake-it /, installed.serial.slice(-2000));
    t.diagnostic(`install (QEMU start to power off): ${installed.ms} ms`);

    const agentSocket = path.join(dir, "qga.sock");
    const bootLog = path.join(dir, "boot.log");
    const started = Date.now();
    const qemu = spawn("qemu-system-x86_64", bootArgs(installed.disk, agentSocket, bootLog), { stdio: "ignore" });
    let agent: AgentClient | undefined;
    try {
      agent = await AgentClient.connect(agentSocket, BOOT_TIMEOUT_MS);
      await agent.sync(BOOT_TIMEOUT_MS);
      t.diagnostic(`boot from disk to agent answering: ${Date.now() - started} ms`);
      assert.deepEqual(await agent.call("guest-ping"), {});

      const facts = await agent.sh("cat /etc/hostname /etc/timezone /var/lib/rebake-testos/instance-id; readlink /etc/localtime; wc -c < /etc/machine-id");
      assert.deepEqual(facts, {
        exitCode: 0,
        stdout: "rebake-it\nEurope/Berlin\niid-testos-1\n/usr/share/zoneinfo/Europe/Berlin\n33\n",
        stderr: "",
      });
      assert.deepEqual(await agent.sh("echo out; echo err >&2; exit 3"), { exitCode: 3, stdout: "out\n", stderr: "err\n" });

      const payload = randomBytes(64 * 1024);
      await agent.upload(payload, "/tmp/payload.bin");
      const inGuest = await agent.sh("sha256sum /tmp/payload.bin && tar --help >/dev/null 2>&1 && gzip --help >/dev/null 2>&1");
      assert.equal(inGuest.stdout.split(" ")[0], createHash("sha256").update(payload).digest("hex"));
      assert.equal(inGuest.exitCode, 0);

      assert.ok(((await agent.call("guest-fsfreeze-freeze")) as number) >= 1);
      assert.equal(await agent.call("guest-fsfreeze-status"), "frozen");
      assert.ok(((await agent.call("guest-fsfreeze-thaw")) as number) >= 1);
      assert.equal(await agent.call("guest-fsfreeze-status"), "thawed");

      // The demo apps, as the runner installs them: upload, check the sha256 inside the guest,
      // run the install command, then the detect command. demo-motd refuses to go in first.
      // One request at a time: the agent answers in order and this client matches by order.
      const apps = [];
      for (const name of ["demo-motd", "demo-sysinfo"]) {
        const yamlPath = path.join(REPO, "apps", `${name}.yaml`);
        const app = parseYaml(await readFile(yamlPath, "utf8")) as App;
        const dirInGuest = `${GUEST_UPLOAD_DIR}/${name}`;
        const fileInGuest = `${dirInGuest}/${path.basename(app.source.path ?? "")}`;
        const fill = (command: string) => command.replaceAll("{file}", fileInGuest).replaceAll("{dir}", dirInGuest);
        await agent.sh(`mkdir -p ${dirInGuest}`);
        await agent.upload(await readFile(path.resolve(path.dirname(yamlPath), app.source.path ?? "")), fileInGuest);
        apps.push({ name, app, fileInGuest, install: fill(app.install.linux?.command ?? ""), detect: fill(app.detect?.command ?? "") });
      }
      for (const { name, app, fileInGuest } of apps) {
        assert.equal((await agent.sh(`sha256sum ${fileInGuest}`)).stdout.split(" ")[0], app.source.sha256, `${name} upload`);
      }
      const [motd, sysinfo] = apps as [typeof apps[0], typeof apps[0]];
      const early = await agent.sh(motd.install);
      assert.equal(early.exitCode, 1);
      assert.match(early.stderr, /demo-motd needs demo-sysinfo/);
      for (const { name, install: command, detect } of [sysinfo, motd]) {
        assert.notEqual((await agent.sh(detect)).exitCode, 0, `${name} detected before its install`);
        const installed = await agent.sh(command);
        assert.equal(installed.exitCode, 0, `${name}: ${installed.stderr}`);
        assert.equal((await agent.sh(detect)).exitCode, 0, `${name} not detected after its install`);
      }
      assert.match((await agent.sh("cat /etc/motd")).stdout, /hostname: rebake-it\n  kernel: 6\./);

      // The PVS target-device stand-in, with the install command the demo recipe uses.
      const standinFile = `${GUEST_UPLOAD_DIR}/${PVS_STANDIN}.tar.gz`;
      await agent.upload(await readFile(path.join(REPO, "apps", "files", `${PVS_STANDIN}.tar.gz`)), standinFile);
      const standin = await agent.sh(`tar -xzf "${standinFile}" -C "${GUEST_UPLOAD_DIR}" && sh "${GUEST_UPLOAD_DIR}/${PVS_STANDIN}/install.sh" && pvs-target-device-status`);
      assert.equal(standin.exitCode, 0, standin.stderr);
      assert.match(standin.stdout, /stand-in for the Citrix PVS target device, version 0\.1\.0\ninstalled after demo-motd demo-sysinfo/);

      // How a Linux install step with reboot "if-required" hears a package ask for the reboot,
      // in the guest's own sh: the command's exit code first, then the distribution's flag.
      for (const [command, exitCode] of [["true", 0], ["exit 0", 0], ["exit 3", 3], ["exit 3010", LINUX_REBOOT_CODE], ["touch /var/run/reboot-required; exit 0", LINUX_REBOOT_CODE]] as const) {
        assert.equal((await agent.sh(withLinuxRebootCheck(command))).exitCode, exitCode, command);
      }

      // The old agent may still answer for a moment after the request: wait for a new boot id.
      const bootId = async (client: AgentClient) => (await client.sh("cat /proc/sys/kernel/random/boot_id")).stdout;
      const before = await bootId(agent);
      const rebootStarted = Date.now();
      agent.sendOnly("guest-shutdown", { mode: "reboot" });
      for (;;) {
        assert.ok(Date.now() - rebootStarted < BOOT_TIMEOUT_MS, "no new boot after guest-shutdown mode=reboot");
        agent.close();
        agent = await AgentClient.connect(agentSocket, BOOT_TIMEOUT_MS);
        const answered = await agent.sync(SYNC_ATTEMPT_MS * 2).then(() => bootId(agent!)).catch(() => before);
        if (answered !== before) break;
      }
      t.diagnostic(`guest-shutdown reboot to agent answering: ${Date.now() - rebootStarted} ms`);
      assert.equal((await agent.sh("cat /etc/hostname")).stdout, "rebake-it\n");
      assert.equal((await agent.sh(withLinuxRebootCheck("true"))).exitCode, 0, "the reboot-required flag outlived the reboot");

      agent.sendOnly("guest-shutdown");
      assert.equal(await exited(qemu, SHUTDOWN_TIMEOUT_MS), 0);
      assert.match(await readFile(bootLog, "utf8"), /reboot: Power down/);
    } finally {
      agent?.close();
      if (qemu.exitCode === null) {
        qemu.kill("SIGKILL");
        await exited(qemu, SHUTDOWN_TIMEOUT_MS).catch(() => undefined);
      }
    }
  });
});
