/**
 * A client for the QEMU Machine Protocol on a unix socket: greeting and capabilities negotiation,
 * commands matched to responses by id (so a late answer never resolves the wrong command),
 * asynchronous events (SHUTDOWN, POWERDOWN, RESET, ...) and a per-command timeout.
 */
import net from "node:net";
import { HypervisorError } from "../driver.ts";
import { JsonLineDecoder } from "../../util/json-lines.ts";
import { connectUnixSocket } from "../../util/unix-socket.ts";

/** Long enough for a snapshot of a busy disk under TCG, short enough to notice a wedged QEMU. */
export const QMP_COMMAND_TIMEOUT_MS = 30_000;
/** QEMU sends its greeting at once; waiting longer means the socket is not QMP. */
export const QMP_GREETING_TIMEOUT_MS = 10_000;

export interface QmpEvent {
  readonly event: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly timestamp?: { readonly seconds: number; readonly microseconds: number };
}

export class QmpError extends HypervisorError {}
/** QEMU answered with an error. */
export class QmpCommandError extends QmpError {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly description: string,
  ) {
    super(`QMP command ${command} failed: ${errorClass}: ${description}`);
  }
}
export class QmpTimeoutError extends QmpError {}
/** The socket closed: QEMU exited or was killed. */
export class QmpDisconnectedError extends QmpError {}

interface Pending {
  readonly command: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface QmpMessage {
  readonly QMP?: unknown;
  readonly id?: unknown;
  readonly return?: unknown;
  readonly error?: { readonly class?: string; readonly desc?: string };
  readonly event?: string;
  readonly data?: Record<string, unknown>;
  readonly timestamp?: { seconds: number; microseconds: number };
}

/** Opens a unix socket once; rejects with the OS error (ENOENT, ECONNREFUSED) for callers that retry. */
export class QmpClient {
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<(event: QmpEvent) => void>();
  private readonly decoder = new JsonLineDecoder();
  private closeError: QmpDisconnectedError | undefined;
  private greeted!: () => void;
  private readonly greeting = new Promise<void>((resolve) => (this.greeted = resolve));
  /** Resolves when the connection is gone, for whatever reason. */
  readonly closed: Promise<void>;

  private constructor(
    private readonly socket: net.Socket,
    private readonly socketPath: string,
  ) {
    socket.on("data", (chunk: Buffer) => {
      for (const message of this.decoder.push(chunk)) this.dispatch(message as QmpMessage);
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        this.closeError = new QmpDisconnectedError(`QMP connection to ${this.socketPath} closed (QEMU exited?)`);
        for (const [id, entry] of this.pending) {
          clearTimeout(entry.timer);
          this.pending.delete(id);
          entry.reject(this.closeError);
        }
        resolve();
      });
    });
    // Errors are reported through "close"; without a listener Node would throw them.
    socket.on("error", () => {});
  }

  /** Connects, reads the greeting and negotiates capabilities. */
  static async connect(socketPath: string, greetingTimeoutMs = QMP_GREETING_TIMEOUT_MS): Promise<QmpClient> {
    const client = new QmpClient(await connectUnixSocket(socketPath), socketPath);
    try {
      await withTimeout(
        Promise.race([client.greeting, client.closed.then(() => Promise.reject(client.closeError))]),
        greetingTimeoutMs,
        () => new QmpTimeoutError(`no QMP greeting on ${socketPath} within ${greetingTimeoutMs} ms: is it a QMP socket?`),
      );
      await client.execute("qmp_capabilities");
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  get isOpen(): boolean {
    return this.closeError === undefined;
  }

  /** Runs one command and returns its "return" value. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = QMP_COMMAND_TIMEOUT_MS): Promise<T> {
    if (this.closeError) return Promise.reject(this.closeError);
    const id = `rebake-${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpTimeoutError(`QMP command ${command} got no answer within ${timeoutMs} ms on ${this.socketPath}`));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (value: unknown) => void, reject, timer });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  /** Calls `listener` for every event until the returned function is called. */
  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.socket.destroy();
  }

  private dispatch(message: QmpMessage): void {
    if (message.QMP !== undefined) {
      this.greeted();
      return;
    }
    if (typeof message.event === "string") {
      const event: QmpEvent = {
        event: message.event,
        ...(message.data ? { data: message.data } : {}),
        ...(message.timestamp ? { timestamp: message.timestamp } : {}),
      };
      for (const listener of this.listeners) listener(event);
      return;
    }
    const id = typeof message.id === "string" ? message.id : undefined;
    const entry = id === undefined ? undefined : this.pending.get(id);
    if (!entry || id === undefined) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    if (message.error) {
      entry.reject(new QmpCommandError(entry.command, message.error.class ?? "Error", message.error.desc ?? "no description"));
    } else {
      entry.resolve(message.return);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
