/**
 * The GuestChannel over WinRM (WS-Management WinRS shells) with HTTP Basic authentication: meant
 * for lab and CI images whose listener allows Basic (https with a self-signed certificate, or http
 * with AllowUnencrypted). PowerShell runs as -EncodedCommand; files travel as base64 chunks that
 * PowerShell appends in the guest, then Get-FileHash checks them.
 */
import { randomUUID } from "node:crypto";
import { open } from "node:fs/promises";
import { createHash } from "node:crypto";
import { GuestDisconnectedError, GuestError, GuestTimeoutError, type GuestChannel, type GuestExecOptions, type GuestExecResult } from "../channel.ts";
import { pollGuest, rebootUntilNewBoot } from "../poll-guest.ts";
import { checkUploadHash } from "../upload-hash.ts";
import { runWinrsCommand } from "./winrs-command.ts";
import { WinrmAuthError, type WinrmEndpoint } from "./wsman-client.ts";
import {
  BOOT_ID_POWERSHELL,
  chunkBytesFor,
  COMMAND_LINE_LIMIT,
  inlinePowershell,
  powerCommand,
  removeFilePowershell,
  runScriptFile,
  sha256Powershell,
  writeChunkCommand,
} from "./windows-commands.ts";

export const READY_BACKOFF_MS = { first: 1_000, max: 10_000 } as const;
/** One readiness probe or boot-id read. */
const PROBE_TIMEOUT_MS = 30_000;
/** One chunk write: a PowerShell start plus a file append. */
const CHUNK_TIMEOUT_MS = 60_000;
/** Hashing a multi-GiB installer inside a busy guest takes minutes. */
const HASH_TIMEOUT_MS = 15 * 60_000;
/** Where staged scripts go: present on every Windows, writable by administrators. */
export const DEFAULT_STAGING_DIR = "C:\\Windows\\Temp";
const READY_WORD = "rebake-ready";

export class WinrmUploadError extends GuestError {}

export interface WinrmChannelOptions {
  /** The WinRM endpoint URL, or how to build it once the hypervisor knows the VM's address. */
  readonly url: string | (() => Promise<string | undefined>);
  readonly user: string;
  /** Called per connection, so the secret is read late and never stored in settings. */
  readonly password: () => string;
  /** PEM to trust for an https listener with a self-signed certificate. */
  readonly ca?: string;
  /** @default DEFAULT_STAGING_DIR */
  readonly stagingDir?: string;
}

export class WinrmChannel implements GuestChannel {
  private knownUrl: string | undefined;

  constructor(private readonly options: WinrmChannelOptions) {
    if (typeof options.url === "string") this.knownUrl = options.url;
  }

  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const last = await this.poll(Date.now() + timeoutMs, signal, async (remaining) => {
      const probe = await this.run(`echo ${READY_WORD}`, Math.min(PROBE_TIMEOUT_MS, remaining), signal);
      return probe.stdout.includes(READY_WORD) ? true : `the probe printed ${JSON.stringify(probe.stdout.trim())} (exit ${probe.exitCode})`;
    });
    if (last !== true) throw new GuestTimeoutError(`waiting for WinRM at ${this.where()} to run a command as ${this.options.user}: not ready within ${timeoutMs} ms (last: ${last})`);
  }

  async exec(script: string, options: GuestExecOptions): Promise<GuestExecResult> {
    if (options.shell === "sh") throw new GuestError("shell sh needs a Linux guest; WinRM reaches Windows guests: use shell powershell or cmd");
    const inline = options.shell === "powershell" ? inlinePowershell(script) : singleCmdLine(script);
    if (inline) return this.run(inline, options.timeoutMs, options.signal, options.onOutput);
    const staged = `${this.options.stagingDir ?? DEFAULT_STAGING_DIR}\\rebake-${randomUUID()}${options.shell === "powershell" ? ".ps1" : ".cmd"}`;
    // A UTF-8 BOM makes Windows PowerShell 5.1 read the script as UTF-8.
    const bytes = options.shell === "powershell" ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(script)]) : Buffer.from(script.replace(/\r?\n/g, "\r\n"));
    try {
      await this.writeChunks(staged, chunksOf(bytes, chunkBytesFor(staged)), options.signal);
      return await this.run(runScriptFile(options.shell, staged), options.timeoutMs, options.signal, options.onOutput);
    } finally {
      await this.run(inlinePowershell(removeFilePowershell(staged))!, CHUNK_TIMEOUT_MS).catch(() => undefined);
    }
  }

  async upload(localPath: string, guestPath: string, signal?: AbortSignal): Promise<{ readonly sha256: string }> {
    const hash = createHash("sha256");
    const file = await open(localPath, "r");
    try {
      const chunkBytes = chunkBytesFor(guestPath);
      async function* read(): AsyncGenerator<Buffer> {
        const buffer = Buffer.alloc(chunkBytes);
        for (;;) {
          const { bytesRead } = await file.read(buffer, 0, chunkBytes, null);
          if (bytesRead === 0) return;
          const chunk = Buffer.from(buffer.subarray(0, bytesRead));
          hash.update(chunk);
          yield chunk;
        }
      }
      await this.writeChunks(guestPath, read(), signal);
    } finally {
      await file.close();
    }
    const expected = hash.digest("hex");
    const hashed = await this.run(inlinePowershell(sha256Powershell(guestPath))!, HASH_TIMEOUT_MS, signal);
    return { sha256: checkUploadHash(hashed, expected, { localPath, guestPath, where: this.where() }, (message) => new WinrmUploadError(message)) };
  }

  async shutdown(): Promise<void> {
    await this.requestPower("poweroff");
  }

  /** Reboots and waits until the guest answers with a new LastBootUpTime. */
  async reboot(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await rebootUntilNewBoot(
      {
        identity: "boot time",
        probeTimeoutMs: PROBE_TIMEOUT_MS,
        readBootIdentity: (timeout, s) => this.bootId(timeout, s),
        requestReboot: (s) => this.requestPower("reboot", s),
        forgetAddress: () => {
          if (typeof this.options.url !== "string") this.knownUrl = undefined;
        },
        poll: (deadline, s, attempt) => this.poll(deadline, s, attempt),
        where: () => this.where(),
      },
      timeoutMs,
      signal,
    );
  }

  async close(): Promise<void> {
    // Each command opens and deletes its own shell: nothing stays open.
  }

  private async writeChunks(guestPath: string, chunks: Iterable<Buffer> | AsyncIterable<Buffer>, signal: AbortSignal | undefined): Promise<void> {
    let first = true;
    for await (const chunk of chunks) {
      await this.writeChunk(guestPath, chunk, first, signal);
      first = false;
    }
    if (first) await this.writeChunk(guestPath, Buffer.alloc(0), true, signal);
  }

  private async writeChunk(guestPath: string, chunk: Buffer, first: boolean, signal: AbortSignal | undefined): Promise<void> {
    const written = await this.run(writeChunkCommand(guestPath, chunk.toString("base64"), first), CHUNK_TIMEOUT_MS, signal);
    if (written.exitCode !== 0) throw new WinrmUploadError(`writing ${guestPath} on ${this.where()} failed (exit ${written.exitCode}): ${(written.stderr || written.stdout).trim()}`);
  }

  private async bootId(timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
    const result = await this.run(inlinePowershell(BOOT_ID_POWERSHELL)!, timeoutMs, signal);
    const id = result.stdout.trim();
    if (result.exitCode !== 0 || !id) throw new GuestError(`reading the boot time of ${this.where()} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    return id;
  }

  /** Accepted when it exits 0 or the connection is gone by the time it would have answered. */
  private async requestPower(action: "reboot" | "poweroff", signal?: AbortSignal): Promise<void> {
    try {
      const result = await this.run(powerCommand(action), PROBE_TIMEOUT_MS, signal);
      if (result.exitCode !== 0) throw new GuestError(`asking ${this.where()} to ${action} failed with exit code ${result.exitCode}: ${(result.stderr || result.stdout).trim()}`);
    } catch (error) {
      if (error instanceof GuestDisconnectedError || error instanceof GuestTimeoutError) return;
      throw error;
    }
  }

  private async run(commandLine: string, timeoutMs: number, signal?: AbortSignal, onOutput?: GuestExecOptions["onOutput"]): Promise<GuestExecResult> {
    return runWinrsCommand(await this.endpoint(), commandLine, { timeoutMs, ...(signal ? { signal } : {}), ...(onOutput ? { onOutput } : {}) });
  }

  private poll(deadline: number, signal: AbortSignal | undefined, attempt: (remainingMs: number) => Promise<true | string>): Promise<true | string> {
    return pollGuest({ deadline, backoffMs: READY_BACKOFF_MS, isRetryable, ...(signal ? { signal } : {}) }, attempt);
  }

  private async endpoint(): Promise<WinrmEndpoint> {
    const url = this.knownUrl ?? (typeof this.options.url === "function" ? await this.options.url() : undefined);
    if (!url) throw new GuestDisconnectedError(`the guest has no IP address yet, so there is no WinRM endpoint to reach as ${this.options.user}`);
    this.knownUrl = url;
    return { url, user: this.options.user, password: this.options.password(), ...(this.options.ca ? { ca: this.options.ca } : {}) };
  }

  private where(): string {
    return this.knownUrl ?? "(address not known yet)";
  }
}

/** What goes away while Windows boots: no address, no listener, WinRM not configured yet. */
function isRetryable(error: unknown): boolean {
  return error instanceof GuestDisconnectedError || error instanceof GuestTimeoutError || error instanceof WinrmAuthError;
}

/** A one-line cmd script short enough to be the WinRS command line itself. */
function singleCmdLine(script: string): string | undefined {
  const line = script.trim();
  return !/[\r\n]/.test(line) && line.length <= COMMAND_LINE_LIMIT ? line : undefined;
}

function* chunksOf(bytes: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}
