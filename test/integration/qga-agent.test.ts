/** The QGA channel against Debian's real qemu-ga, run on the host (see qga-host-agent.ts). */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { QgaChannel, GuestCommandTimeoutError } from "../../src/guest/qga/qga-channel.ts";
import { GuestTimeoutError } from "../../src/guest/channel.ts";
import { startHostAgent, stopHostAgent } from "./qga-host-agent.ts";

describe("QGA channel against a real qemu-ga", () => {
  let dir: string;
  let agent: ChildProcess;
  let channel: QgaChannel;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "rebake-qga-"));
    const socket = path.join(dir, "qga.sock");
    agent = await startHostAgent(dir, socket);
    channel = new QgaChannel({ socketPath: socket, requestTimeoutMs: 5_000 });
    await channel.waitReady(10_000);
  });

  after(async () => {
    await channel.close();
    await stopHostAgent(agent);
    await rm(dir, { recursive: true, force: true });
  });

  const cases = [
    { name: "captures stdout and exit code 0", script: "echo hello; echo world", exitCode: 0, stdout: "hello\nworld\n", stderr: "" },
    { name: "reports a non-zero exit code with stderr", script: "echo oops >&2; exit 7", exitCode: 7, stdout: "", stderr: "oops\n" },
    { name: "reports death by signal as 128 + signal", script: "kill -TERM $$", exitCode: 128 + 15, stdout: "", stderr: "" },
    { name: "keeps non-ASCII output intact", script: "printf 'caf\\303\\251\\n'", exitCode: 0, stdout: "café\n", stderr: "" },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const chunks: string[] = [];
      const result = await channel.exec(c.script, { shell: "sh", timeoutMs: 10_000, onOutput: (chunk, stream) => chunks.push(`${stream}:${chunk}`) });
      assert.deepEqual(result, { exitCode: c.exitCode, stdout: c.stdout, stderr: c.stderr });
      assert.deepEqual(chunks, [...(c.stdout ? [`stdout:${c.stdout}`] : []), ...(c.stderr ? [`stderr:${c.stderr}`] : [])]);
    });
  }

  it("times out a command that runs too long and kills it", async () => {
    const marker = path.join(dir, "still-running");
    await assert.rejects(
      channel.exec(`sleep 3; touch ${marker}`, { shell: "sh", timeoutMs: 500 }),
      (error: Error) => error instanceof GuestCommandTimeoutError && /500 ms: sleep 3/.test(error.message),
    );
    await sleep(3_500);
    assert.equal(existsSync(marker), false, "the timed-out command was not killed");
  });

  it("stops waiting for a command when aborted", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(channel.exec("sleep 5", { shell: "sh", timeoutMs: 10_000, signal: controller.signal }), { name: "AbortError" });
  });

  const uploads = [
    { name: "an empty file", bytes: Buffer.alloc(0) },
    { name: "a file of several upload chunks", bytes: randomBytes(200 * 1024 + 17) },
  ];
  for (const u of uploads) {
    it(`uploads ${u.name} and returns the sha256 computed in the guest`, async () => {
      const local = path.join(dir, "local.bin");
      const remote = path.join(dir, `remote-${u.bytes.length}.bin`);
      await writeFile(local, u.bytes);
      const { sha256 } = await channel.upload(local, remote);
      assert.equal(sha256, createHash("sha256").update(u.bytes).digest("hex"));
      assert.deepEqual(await readFile(remote), u.bytes);
    });
  }

  it("falls back to flushing when the agent cannot freeze filesystems", async () => {
    assert.equal(await channel.freezeFilesystems(), "synced");
  });

  it("detects the guest OS from guest-get-osinfo", async () => {
    assert.equal(await channel.guestOs(), "linux");
  });
});

describe("QGA channel readiness", () => {
  it("names what it waited for when nothing answers", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rebake-qga-"));
    const channel = new QgaChannel({ socketPath: path.join(dir, "absent.sock") });
    try {
      await assert.rejects(channel.waitReady(700), (error: Error) => error instanceof GuestTimeoutError && /guest-sync-delimited within 700 ms/.test(error.message));
    } finally {
      await channel.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("becomes ready when the agent starts after the wait began, and again after it restarts", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rebake-qga-"));
    const socket = path.join(dir, "qga.sock");
    const channel = new QgaChannel({ socketPath: socket, requestTimeoutMs: 2_000 });
    let agent: ChildProcess | undefined;
    try {
      const ready = channel.waitReady(10_000);
      await sleep(600);
      agent = await startHostAgent(dir, socket);
      await ready;
      await stopHostAgent(agent);
      await rm(socket, { force: true });
      agent = await startHostAgent(dir, socket);
      await channel.waitReady(10_000);
      assert.equal((await channel.exec("echo again", { shell: "sh", timeoutMs: 5_000 })).stdout, "again\n");
    } finally {
      await channel.close();
      if (agent) await stopHostAgent(agent);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
