/**
 * A real OpenSSH server for integration tests: `sshd -D -f <conf> -e` on 127.0.0.1 with a free
 * port, a temporary host key, a temporary client key in a temporary authorized_keys, logging in as
 * the current user (root here, hence PermitRootLogin prohibit-password). Everything lives in one
 * temp dir that stop() removes.
 *
 *   const sshd = await startSshd();              // listening
 *   const later = await startSshd({ start: false }); ... await later.start();  // port reserved first
 *   try { ssh -p sshd.port -i sshd.keyPath sshd.user@sshd.host ... } finally { await sshd.stop(); }
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../src/util/local-port.ts";
import { stopChild } from "./stop-child.ts";

export const SSHD_HOST = "127.0.0.1";
const SSHD = "/usr/sbin/sshd";
/** sshd refuses to start without its privilege separation directory (made by the Debian package's tmpfiles at boot). */
const PRIVSEP_DIR = "/run/sshd";
const START_TIMEOUT_MS = 10_000;
const BANNER_PROBE_MS = 100;

export interface Sshd {
  readonly host: typeof SSHD_HOST;
  readonly port: number;
  /** The account the key logs in as: the user running the tests. */
  readonly user: string;
  /** Private key (mode 0600) that authorized_keys accepts. */
  readonly keyPath: string;
  /** The temp dir holding config, keys and sshd's log (sshd.log). */
  readonly dir: string;
  /** Starts sshd (when created with start: false) and resolves once it sends its SSH banner. */
  start(): Promise<void>;
  /** What sshd wrote to stderr so far: useful in assertion messages. */
  log(): Promise<string>;
  /** Stops sshd (if running) and removes the temp dir. */
  stop(): Promise<void>;
}

export interface StartSshdOptions {
  /** @default true; false reserves the port and writes the config, for "wait until it is up" tests. */
  readonly start?: boolean;
}

export async function startSshd(options: StartSshdOptions = {}): Promise<Sshd> {
  const dir = await mkdtemp(path.join(tmpdir(), "rebake-sshd-"));
  let child: ChildProcess | undefined;
  const logPath = path.join(dir, "sshd.log");
  try {
    const keyPath = path.join(dir, "client_ed25519");
    const hostKey = path.join(dir, "host_ed25519");
    await keygen(hostKey);
    await keygen(keyPath);
    const authorizedKeys = path.join(dir, "authorized_keys");
    await copyFile(`${keyPath}.pub`, authorizedKeys);
    await chmod(authorizedKeys, 0o600);
    const port = await freePort(SSHD_HOST);
    const user = userInfo().username;
    const config = path.join(dir, "sshd_config");
    await writeFile(
      config,
      [
        `Port ${port}`,
        `ListenAddress ${SSHD_HOST}`,
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        `AllowUsers ${user}`,
        "UsePAM no",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        // The temp dir sits under world-writable /tmp, which StrictModes rejects.
        "StrictModes no",
        // scp speaks SFTP since OpenSSH 9.0.
        "Subsystem sftp internal-sftp",
        "",
      ].join("\n"),
    );
    await mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
    await promisify(execFile)(SSHD, ["-t", "-f", config]);

    const start = async () => {
      if (child) return;
      const logFile = await open(logPath, "a");
      const started = spawn(SSHD, ["-D", "-f", config, "-e"], { stdio: ["ignore", "ignore", logFile.fd] });
      await logFile.close();
      child = started;
      await waitForBanner(port, started, logPath);
    };
    const sshd: Sshd = {
      host: SSHD_HOST,
      port,
      user,
      keyPath,
      dir,
      start,
      log: () => readFile(logPath, "utf8").catch(() => ""),
      stop: async () => {
        if (child) await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
    if (options.start ?? true) await start();
    return sshd;
  } catch (error) {
    if (child) await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function keygen(file: string): Promise<void> {
  await promisify(execFile)("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "rebake-test", "-f", file]);
}

async function waitForBanner(port: number, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`sshd exited with code ${child.exitCode}: ${await readFile(logPath, "utf8").catch(() => "")}`);
    }
    if (await answersBanner(port)) return;
    await new Promise((resolve) => setTimeout(resolve, BANNER_PROBE_MS));
  }
  throw new Error(`sshd did not answer on ${SSHD_HOST}:${port} within ${START_TIMEOUT_MS} ms: ${await readFile(logPath, "utf8").catch(() => "")}`);
}

function answersBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, SSHD_HOST);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(BANNER_PROBE_MS * 10, () => done(false));
    socket.once("data", (data) => done(data.toString().startsWith("SSH-")));
    socket.once("error", () => done(false));
  });
}
