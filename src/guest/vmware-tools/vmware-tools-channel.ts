/**
 * The GuestChannel over VMware Tools guest operations, driven with govc: the script is uploaded to
 * a guest temp dir (guest.mktemp, guest.upload), started with its output redirected to files
 * (guest.start), its exit code polled (guest.ps), and its output fetched (guest.download).
 * The guest account travels in GOVC_GUEST_LOGIN, never in arguments.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { sha256File } from "../../util/hash-file.ts";
import type { Shell } from "../../recipe/model.ts";
import { GuestError, GuestTimeoutError, type GuestChannel, type GuestExecOptions, type GuestExecResult } from "../channel.ts";
import { sha256Command, type GuestOs } from "../qga/guest-command.ts";
import { shQuote } from "../../util/sh-quote.ts";
import type { GovcCall, GovcRunner } from "./govc-runner.ts";
import { readVmInfo } from "./vm-info.ts";
import { pause } from "../../util/pause.ts";

/** How often tools state and process exit are polled. */
export const TOOLS_POLL_MS = 2_000;
/** After `vm.power -r`, how long tools may keep answering before the reboot takes them down. */
export const REBOOT_DOWN_WINDOW_MS = 60_000;

export class ToolsCommandTimeoutError extends GuestTimeoutError {}
export class ToolsUploadChecksumError extends GuestError {}

export interface VmwareToolsChannelOptions {
  readonly govc: GovcRunner;
  /** The VM's inventory path. */
  readonly vm: string;
  /** GOVC_GUEST_LOGIN for the guest account; called per operation so a missing one fails late and clearly. */
  readonly login: () => NodeJS.ProcessEnv;
  /** @default "windows" (golden images for Citrix are Windows) */
  readonly guestOs?: GuestOs;
  /** @default TOOLS_POLL_MS */
  readonly pollMs?: number;
}

/** govc guest.ps -json: Go field names in 0.24, camelCase in newer releases. */
interface ProcessInfo {
  readonly Pid?: number;
  readonly pid?: number;
  readonly EndTime?: string | null;
  readonly endTime?: string | null;
  readonly ExitCode?: number;
  readonly exitCode?: number;
}

export class VmwareToolsChannel implements GuestChannel {
  private readonly govc: GovcRunner;
  private readonly os: GuestOs;
  private readonly pollMs: number;

  constructor(private readonly options: VmwareToolsChannelOptions) {
    this.govc = options.govc;
    this.os = options.guestOs ?? "windows";
    this.pollMs = options.pollMs ?? TOOLS_POLL_MS;
  }

  /** VMware Tools running and an IP address reported; the timeout names the step still waiting. */
  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await readVmInfo(this.govc, this.options.vm, opt(signal));
      if (info.toolsRunning && info.ipAddress) return;
      if (Date.now() >= deadline) {
        const step = info.toolsRunning ? "wait for an IP address" : "wait for VMware Tools";
        throw new GuestTimeoutError(`VM ${this.options.vm}: step "${step}" did not finish within ${timeoutMs} ms (power ${info.powerState}, tools ${info.toolsRunning ? "running" : "not running"}, no IP address)`);
      }
      await pause(Math.min(this.pollMs, Math.max(0, deadline - Date.now())), signal);
    }
  }

  async exec(script: string, options: GuestExecOptions): Promise<GuestExecResult> {
    const guest = this.guestCall(options.signal);
    const dir = (await this.govc.run(["guest.mktemp", "-vm", this.options.vm, "-d"], guest)).stdout.trim();
    const join = (name: string) => (this.os === "windows" ? `${dir}\\${name}` : `${dir}/${name}`);
    const files = { script: join(`step${SCRIPT_SUFFIX[options.shell]}`), out: join("stdout.txt"), err: join("stderr.txt") };
    try {
      const local = await mkdtemp(path.join(tmpdir(), "rebake-tools-"));
      try {
        const scriptFile = path.join(local, "script");
        await writeFile(scriptFile, options.shell === "sh" ? script : script.replace(/\r?\n/g, "\r\n"));
        await this.govc.run(["guest.upload", "-vm", this.options.vm, "-f", scriptFile, files.script], guest);
      } finally {
        await rm(local, { recursive: true, force: true });
      }
      const program = redirectedProgram(options.shell, files);
      const pid = Number((await this.govc.run(["guest.start", "-vm", this.options.vm, program.path, ...program.args], guest)).stdout.trim());
      if (!Number.isInteger(pid)) throw new GuestError(`guest.start on VM ${this.options.vm} printed no process id`);
      const exitCode = await this.waitExit(pid, options.timeoutMs, options.signal);
      const stdout = await this.download(files.out, options.signal);
      const stderr = await this.download(files.err, options.signal);
      if (stdout) options.onOutput?.(stdout, "stdout");
      if (stderr) options.onOutput?.(stderr, "stderr");
      return { exitCode, stdout, stderr };
    } finally {
      await this.govc.run(["guest.rmdir", "-vm", this.options.vm, "-r", dir], { ...this.guestCall(undefined), nothrow: true });
    }
  }

  async upload(localPath: string, guestPath: string, signal?: AbortSignal): Promise<{ readonly sha256: string }> {
    const expected = await sha256File(localPath, signal);
    await this.govc.run(["guest.upload", "-vm", this.options.vm, "-f", localPath, guestPath], { ...this.guestCall(signal), timeoutMs: HASH_TIMEOUT_MS });
    const shell: Shell = this.os === "windows" ? "powershell" : "sh";
    const result = await this.exec(sha256Command(this.os, guestPath), { shell, timeoutMs: HASH_TIMEOUT_MS, ...opt(signal) });
    const actual = result.stdout.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
    if (result.exitCode !== 0 || actual !== expected) {
      throw new ToolsUploadChecksumError(`upload of ${localPath} to ${guestPath} on VM ${this.options.vm}: guest sha256 ${actual || `failed (exit ${result.exitCode})`} differs from the local ${expected}`);
    }
    return { sha256: actual };
  }

  async shutdown(): Promise<void> {
    await this.govc.run(["vm.power", "-s", this.options.vm]);
  }

  async reboot(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await this.govc.run(["vm.power", "-r", this.options.vm], opt(signal));
    // Tools keep answering for a moment after the request; wait until the reboot takes them down.
    const downBy = Date.now() + Math.min(REBOOT_DOWN_WINDOW_MS, timeoutMs);
    while (Date.now() < downBy && (await readVmInfo(this.govc, this.options.vm, opt(signal))).toolsRunning) {
      await pause(this.pollMs, signal);
    }
    await this.waitReady(timeoutMs, signal);
  }

  async close(): Promise<void> {
    // Each operation is its own govc call: there is no connection to close.
  }

  private async waitExit(pid: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const listing = await this.govc.run(["guest.ps", "-vm", this.options.vm, "-json", "-p", String(pid)], this.guestCall(signal));
      const parsed = JSON.parse(listing.stdout || "{}") as { ProcessInfo?: ProcessInfo[]; processInfo?: ProcessInfo[] };
      const info = (parsed.ProcessInfo ?? parsed.processInfo ?? [])[0];
      if (!info) throw new GuestError(`guest process ${pid} on VM ${this.options.vm} is gone from guest.ps before reporting an exit code`);
      if (info.EndTime ?? info.endTime) return info.ExitCode ?? info.exitCode ?? 0;
      if (Date.now() >= deadline) {
        await this.govc.run(["guest.kill", "-vm", this.options.vm, "-p", String(pid)], { ...this.guestCall(undefined), nothrow: true });
        throw new ToolsCommandTimeoutError(`guest process ${pid} on VM ${this.options.vm} did not exit within ${timeoutMs} ms and was killed`);
      }
      await pause(Math.min(this.pollMs, Math.max(0, deadline - Date.now())), signal);
    }
  }

  private async download(guestPath: string, signal: AbortSignal | undefined): Promise<string> {
    return (await this.govc.run(["guest.download", "-vm", this.options.vm, guestPath, "-"], this.guestCall(signal))).stdout;
  }

  private guestCall(signal: AbortSignal | undefined): GovcCall {
    return { env: this.options.login(), ...opt(signal) };
  }
}

/** Hashing a multi-GiB installer inside a busy guest takes minutes. */
const HASH_TIMEOUT_MS = 15 * 60_000;

const SCRIPT_SUFFIX: Readonly<Record<Shell, string>> = { sh: ".sh", powershell: ".ps1", cmd: ".cmd" };

/** The program guest.start runs: the script with stdout and stderr redirected to files. */
export function redirectedProgram(shell: Shell, files: { readonly script: string; readonly out: string; readonly err: string }): { path: string; args: string[] } {
  switch (shell) {
    case "sh":
      return { path: "/bin/sh", args: ["-c", `sh ${shQuote(files.script)} > ${shQuote(files.out)} 2> ${shQuote(files.err)}`] };
    case "powershell":
      return { path: "cmd.exe", args: ["/c", `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "${files.script}" > "${files.out}" 2> "${files.err}"`] };
    case "cmd":
      return { path: "cmd.exe", args: ["/c", `""${files.script}" > "${files.out}" 2> "${files.err}""`] };
  }
}

function opt(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

