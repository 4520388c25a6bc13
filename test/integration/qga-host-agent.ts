/**
 * Runs Debian's qemu-ga on the host on a unix socket for integration tests: the same protocol a
 * guest speaks over virtio-serial. Commands that would touch the host (shutdown, freeze, suspend,
 * time, users) are blocked so no test can harm the machine running it.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const BLOCKED_RPCS = [
  "guest-shutdown", "guest-suspend-disk", "guest-suspend-ram", "guest-suspend-hybrid",
  "guest-fsfreeze-freeze", "guest-fsfreeze-freeze-list", "guest-fsfreeze-thaw", "guest-fstrim",
  "guest-set-time", "guest-set-user-password", "guest-set-vcpus", "guest-set-memory-blocks",
].join(",");

const SOCKET_WAIT_MS = 2_000;
const POLL_MS = 20;

export async function startHostAgent(stateDir: string, socket: string): Promise<ChildProcess> {
  const agent = spawn("qemu-ga", ["-m", "unix-listen", "-p", socket, "-t", stateDir, "-f", path.join(stateDir, "qemu-ga.pid"), "-b", BLOCKED_RPCS], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  for (let waited = 0; waited < SOCKET_WAIT_MS && !existsSync(socket); waited += POLL_MS) await sleep(POLL_MS);
  assert.ok(existsSync(socket), `qemu-ga did not create ${socket}: is the Debian package qemu-guest-agent installed?`);
  return agent;
}

export async function stopHostAgent(agent: ChildProcess): Promise<void> {
  if (agent.exitCode !== null || agent.signalCode !== null) return;
  const exited = new Promise((resolve) => agent.once("exit", resolve));
  agent.kill("SIGTERM");
  await exited;
}
