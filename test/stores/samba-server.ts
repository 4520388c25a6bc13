/**
 * A throwaway Samba server for tests: smbd as a child process with a temp config, listening on
 * 127.0.0.1 on a free port, serving one guest-writable share from a temp directory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { acceptsConnection, freePort } from "../../src/util/local-port.ts";
import { stopChild } from "../support/stop-child.ts";

const START_TIMEOUT_MS = 15_000;

export interface SambaServer {
  readonly port: number;
  readonly shareDir: string;
  readonly url: string;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`smbd exited with ${child.exitCode}: ${log()}`);
    if (await acceptsConnection(port)) return;
    await sleep(100);
  }
  throw new Error(`smbd did not listen on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms: ${log()}`);
}

export async function startSamba(): Promise<SambaServer> {
  const root = await mkdtemp(join(tmpdir(), "rebake-smbd-"));
  const state = join(root, "state");
  const shareDir = join(root, "share");
  await mkdir(state);
  await mkdir(shareDir);
  const port = await freePort();
  const conf = join(root, "smb.conf");
  await writeFile(conf, [
    "[global]",
    `  smb ports = ${port}`,
    "  interfaces = 127.0.0.1",
    "  bind interfaces only = yes",
    ...["private dir", "lock directory", "state directory", "cache directory", "pid directory"].map((key) => `  ${key} = ${state}`),
    `  ncalrpc dir = ${join(state, "ncalrpc")}`,
    `  log file = ${join(state, "log")}`,
    "  disable spoolss = yes",
    "  load printers = no",
    "  server role = standalone server",
    "  map to guest = Bad User",
    `  guest account = ${process.env.USER ?? "root"}`,
    "[vdisks]",
    `  path = ${shareDir}`,
    "  guest ok = yes",
    "  read only = no",
    "",
  ].join("\n"));
  let output = "";
  // smbd signals its whole process group when it shuts down: give it a group of its own (detached),
  // or stopping it kills the test runner too.
  const child = spawn("smbd", ["--foreground", "--no-process-group", "-s", conf, "--debug-stdout"], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const stop = async () => {
    await stopChild(child);
    await rm(root, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => output.slice(-2000));
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, shareDir, url: `smb://127.0.0.1:${port}/vdisks`, stop };
}
