/**
 * The wire side of the QEMU guest agent: one unix socket (the host end of the virtio-serial port),
 * JSON requests with ids, a timeout on every request. While the guest is down the socket still
 * accepts and buffers but nothing answers, and the agent later reads those stale requests; so every
 * request carries an id, answers to anything else are dropped, and `sync` resets the agent's parser
 * with the 0xFF sentinel (guest-sync-delimited) before trusting the line again.
 */
import { randomInt } from "node:crypto";
import type net from "node:net";
import { connectUnixSocket } from "../../util/unix-socket.ts";
import { JsonLineDecoder, SYNC_SENTINEL } from "../../util/json-lines.ts";
import { GuestDisconnectedError, GuestError, GuestTimeoutError } from "../channel.ts";

/** The agent answered with an error. */
export class QgaCommandError extends GuestError {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly description: string,
  ) {
    super(`guest agent command ${command} failed: ${errorClass}: ${description}`);
  }
}

interface Pending {
  readonly command: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface QgaMessage {
  readonly id?: unknown;
  readonly return?: unknown;
  readonly error?: { readonly class?: string; readonly desc?: string };
}

/** The largest id guest-sync-delimited accepts is an int; stay well inside it. */
const SYNC_ID_LIMIT = 2 ** 31 - 1;

export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException("The operation was aborted", "AbortError");
}

export class QgaConnection {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private readonly session = randomInt(SYNC_ID_LIMIT).toString(36);

  constructor(
    readonly socketPath: string,
    private readonly connect: (socketPath: string) => Promise<net.Socket> = connectUnixSocket,
  ) {}

  /** Sends one command and waits for its answer. */
  async request<T = unknown>(command: string, args: Record<string, unknown> | undefined, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw abortError(signal);
    const socket = await this.open();
    const id = `${this.session}-${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.pending.delete(id);
      };
      const onAbort = () => {
        cleanup();
        reject(abortError(signal as AbortSignal));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new GuestTimeoutError(`the guest agent did not answer ${command} within ${timeoutMs} ms on ${this.socketPath}`));
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        command,
        resolve: (value) => {
          cleanup();
          resolve(value as T);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      });
      socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  /**
   * Resets the agent's parser (0xFF) and waits for guest-sync-delimited to echo a fresh random
   * number: once it does, the line is in step and the agent is alive.
   */
  async sync(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const socket = await this.open();
    socket.write(Buffer.from([SYNC_SENTINEL]));
    const token = randomInt(SYNC_ID_LIMIT);
    const echoed = await this.request<unknown>("guest-sync-delimited", { id: token }, timeoutMs, signal);
    if (echoed !== token) throw new GuestError(`guest-sync-delimited echoed ${String(echoed)} instead of ${token} on ${this.socketPath}`);
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Promise<net.Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting ??= this.connect(this.socketPath)
      .then((socket) => {
        this.attach(socket);
        return socket;
      })
      .catch((error: NodeJS.ErrnoException) => {
        throw new GuestDisconnectedError(`cannot connect to the guest agent socket ${this.socketPath}: ${error.code ?? error.message}`);
      })
      .finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    const decoder = new JsonLineDecoder();
    socket.on("data", (chunk: Buffer) => {
      for (const message of decoder.push(chunk)) this.dispatch(message as QgaMessage);
    });
    // Errors are reported through "close".
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.socket === socket) this.socket = undefined;
      const error = new GuestDisconnectedError(`the guest agent connection on ${this.socketPath} closed`);
      for (const entry of [...this.pending.values()]) entry.reject(error);
    });
  }

  private dispatch(message: QgaMessage): void {
    const id = typeof message.id === "string" ? message.id : undefined;
    const entry = id === undefined ? undefined : this.pending.get(id);
    // No id or an unknown one: an answer to a request that already timed out, or to the 0xFF reset.
    if (!entry) return;
    if (message.error) {
      entry.reject(new QgaCommandError(entry.command, message.error.class ?? "Error", message.error.desc ?? "no description"));
    } else {
      entry.resolve(message.return);
    }
  }
}
