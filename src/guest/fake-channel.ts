/**
 * A scripted GuestChannel for unit tests: exec answers come from a table (first matching rule
 * wins), uploads are recorded with their real sha256, and disconnects can be simulated.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { GuestDisconnectedError, GuestTimeoutError, type GuestChannel, type GuestExecOptions, type GuestExecResult } from "./channel.ts";

export interface ExecRule {
  /** Which scripts the rule answers. */
  readonly match: string | RegExp;
  readonly result?: Partial<GuestExecResult>;
  /** Throw instead of answering (e.g. a GuestTimeoutError). */
  readonly error?: Error;
}

export type FakeChannelEvent =
  | { readonly kind: "waitReady"; readonly timeoutMs: number }
  | { readonly kind: "exec"; readonly script: string; readonly options: GuestExecOptions }
  | { readonly kind: "upload"; readonly localPath: string; readonly guestPath: string; readonly sha256: string }
  | { readonly kind: "shutdown" }
  | { readonly kind: "reboot"; readonly timeoutMs: number }
  | { readonly kind: "close" };

export interface FakeGuestChannelOptions {
  readonly exec?: readonly ExecRule[];
  /** The sha256 the "guest" reports for an upload. @default the file's real sha256 */
  readonly uploadSha256?: (localPath: string, guestPath: string) => string | undefined;
}

export class FakeGuestChannel implements GuestChannel {
  readonly events: FakeChannelEvent[] = [];
  private connected = true;
  private readyFailures = 0;

  constructor(private readonly options: FakeGuestChannelOptions = {}) {}

  /** Everything fails with GuestDisconnectedError until `reconnect()`. */
  disconnect(): void {
    this.connected = false;
  }

  reconnect(): void {
    this.connected = true;
  }

  /** The next `count` waitReady calls time out. */
  failReady(count: number): void {
    this.readyFailures = count;
  }

  /** Scripts run so far, in order. */
  get scripts(): string[] {
    return this.events.flatMap((event) => (event.kind === "exec" ? [event.script] : []));
  }

  async waitReady(timeoutMs: number): Promise<void> {
    this.events.push({ kind: "waitReady", timeoutMs });
    if (this.readyFailures > 0 || !this.connected) {
      this.readyFailures = Math.max(0, this.readyFailures - 1);
      throw new GuestTimeoutError(`the fake guest agent did not answer within ${timeoutMs} ms`);
    }
  }

  async exec(script: string, options: GuestExecOptions): Promise<GuestExecResult> {
    this.events.push({ kind: "exec", script, options });
    this.requireConnected();
    options.signal?.throwIfAborted();
    const rule = this.options.exec?.find((candidate) =>
      typeof candidate.match === "string" ? script.includes(candidate.match) : candidate.match.test(script),
    );
    if (rule?.error) throw rule.error;
    const result: GuestExecResult = { exitCode: 0, stdout: "", stderr: "", ...rule?.result };
    if (result.stdout) options.onOutput?.(result.stdout, "stdout");
    if (result.stderr) options.onOutput?.(result.stderr, "stderr");
    return result;
  }

  async upload(localPath: string, guestPath: string): Promise<{ readonly sha256: string }> {
    this.requireConnected();
    const real = createHash("sha256").update(await readFile(localPath)).digest("hex");
    const sha256 = this.options.uploadSha256?.(localPath, guestPath) ?? real;
    this.events.push({ kind: "upload", localPath, guestPath, sha256 });
    return { sha256 };
  }

  async shutdown(): Promise<void> {
    this.events.push({ kind: "shutdown" });
    this.requireConnected();
  }

  async reboot(timeoutMs: number): Promise<void> {
    this.events.push({ kind: "reboot", timeoutMs });
    this.requireConnected();
  }

  async close(): Promise<void> {
    this.events.push({ kind: "close" });
  }

  private requireConnected(): void {
    if (!this.connected) throw new GuestDisconnectedError("the fake guest agent is disconnected");
  }
}
