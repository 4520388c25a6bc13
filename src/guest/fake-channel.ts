/**
 * The scripted GuestChannel for unit tests (one for every test that needs a guest): exec answers
 * come from a function or a table (first matching rule wins), uploads are recorded with their real
 * sha256, and disconnects, hangs and an agent that never answers can be simulated.
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

/** What a scripted exec does: answer (exit code, output), hang until aborted, or drop the connection. */
export type ExecAnswer = Partial<GuestExecResult> & { readonly hang?: boolean; readonly disconnect?: boolean };

export interface FakeGuestChannelOptions {
  /** Answers a script; undefined falls through to the rules. */
  readonly answer?: (script: string, options: GuestExecOptions) => ExecAnswer | undefined;
  readonly exec?: readonly ExecRule[];
  /** waitReady never answers: it waits until its signal aborts. */
  readonly readyHangs?: boolean;
  /** Told of every event as it is recorded, e.g. to keep one journal with a fake driver. */
  readonly onEvent?: (event: FakeChannelEvent) => void;
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

  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.record({ kind: "waitReady", timeoutMs });
    if (this.options.readyHangs) await untilAborted(signal);
    if (this.readyFailures > 0 || !this.connected) {
      this.readyFailures = Math.max(0, this.readyFailures - 1);
      throw new GuestTimeoutError(`the fake guest agent did not answer within ${timeoutMs} ms`);
    }
  }

  async exec(script: string, options: GuestExecOptions): Promise<GuestExecResult> {
    this.record({ kind: "exec", script, options });
    this.requireConnected();
    options.signal?.throwIfAborted();
    const answer = this.options.answer?.(script, options);
    if (answer) {
      if (answer.hang) await untilAborted(options.signal);
      if (answer.disconnect) throw new GuestDisconnectedError("the fake guest agent went away");
      const result: GuestExecResult = { exitCode: answer.exitCode ?? 0, stdout: answer.stdout ?? "", stderr: answer.stderr ?? "" };
      if (result.stdout) options.onOutput?.(result.stdout, "stdout");
      if (result.stderr) options.onOutput?.(result.stderr, "stderr");
      return result;
    }
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
    this.record({ kind: "upload", localPath, guestPath, sha256 });
    return { sha256 };
  }

  async shutdown(): Promise<void> {
    this.record({ kind: "shutdown" });
    this.requireConnected();
  }

  async reboot(timeoutMs: number): Promise<void> {
    this.record({ kind: "reboot", timeoutMs });
    this.requireConnected();
  }

  async close(): Promise<void> {
    this.record({ kind: "close" });
  }

  private record(event: FakeChannelEvent): void {
    this.events.push(event);
    this.options.onEvent?.(event);
  }

  private requireConnected(): void {
    if (!this.connected) throw new GuestDisconnectedError("the fake guest agent is disconnected");
  }
}

function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason), { once: true }));
}
