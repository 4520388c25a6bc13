/**
 * A TPM 2.0 for one VM through swtpm (Debian package `swtpm`): its state lives in the VM
 * directory and QEMU connects to its control socket. `--terminate` ends it when QEMU disconnects;
 * the driver still tracks and stops it.
 */
import { spawn as nodeSpawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { HypervisorError } from "../driver.ts";
import { tiedToParent } from "../../util/tied-to-parent.ts";
import { TrackedProcess } from "./tracked-process.ts";

/** swtpm creates its socket within milliseconds; longer means it failed. */
export const SWTPM_START_TIMEOUT_MS = 10_000;
const POLL_MS = 20;

export class SwtpmError extends HypervisorError {}

export interface SwtpmPaths {
  readonly stateDir: string;
  readonly socket: string;
}

export function swtpmPaths(vmDir: string): SwtpmPaths {
  return { stateDir: path.join(vmDir, "tpm"), socket: path.join(vmDir, "swtpm.sock") };
}

/** The file in the state directory where swtpm keeps a TPM 2.0's permanent state. */
export function tpmStateFile(paths: SwtpmPaths): string {
  return path.join(paths.stateDir, "tpm2-00.permall");
}

export async function startSwtpm(
  paths: SwtpmPaths,
  options: { readonly spawn?: typeof nodeSpawn; readonly binary?: string; readonly label: string; readonly timeoutMs?: number; readonly tieToParent?: boolean },
): Promise<TrackedProcess> {
  const spawn = options.spawn ?? nodeSpawn;
  const binary = options.binary ?? "swtpm";
  const timeoutMs = options.timeoutMs ?? SWTPM_START_TIMEOUT_MS;
  await mkdir(paths.stateDir, { recursive: true });
  const args = [
    "socket", "--tpm2", "--terminate",
    "--tpmstate", `dir=${paths.stateDir}`,
    "--ctrl", `type=unixio,path=${paths.socket}`,
    "--log", `file=${path.join(paths.stateDir, "swtpm.log")},level=1`,
  ];
  const [command, commandArgs] = tiedToParent(binary, args, options.tieToParent ?? true);
  const tracked = new TrackedProcess(spawn(command, commandArgs, { stdio: ["ignore", "ignore", "pipe"] }), `swtpm for ${options.label}`);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(paths.socket)) {
    if (!tracked.running) {
      throw new SwtpmError(`${binary} for ${options.label} exited before opening ${paths.socket}: ${tracked.stderr || "no output"} (is the Debian package swtpm installed?)`);
    }
    if (Date.now() > deadline) {
      await tracked.stop();
      throw new SwtpmError(`${binary} for ${options.label} did not open ${paths.socket} within ${timeoutMs} ms`);
    }
    await sleep(POLL_MS);
  }
  return tracked;
}
