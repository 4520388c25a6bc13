/**
 * Xen Orchestra's REST API (/rest/v0) over fetch: the token in the authenticationToken cookie,
 * actions run as tasks polled at /rest/v0/tasks/<id>, VDIs streamed in and out.
 * Only REST is used; every operation the driver needs exists there.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { randomBytes } from "node:crypto";
import { XoAuthError, XoRequestError, XoTaskError } from "./errors.ts";
import { pause } from "../../util/pause.ts";

export const REST_BASE = "/rest/v0";
/** How often a task is polled. */
export const TASK_POLL_MS = 1_000;
/** Creating, starting or snapshotting a VM finishes within minutes on any pool. */
export const TASK_TIMEOUT_MS = 30 * 60_000;

export interface XoTask {
  readonly id: string;
  readonly status: "pending" | "success" | "failure" | "interrupted";
  readonly result?: unknown;
}

export interface XoRestClientOptions {
  readonly url: string;
  readonly token: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default TASK_POLL_MS */
  readonly pollMs?: number;
  /** Names the variable in auth errors (the token itself is never shown). */
  readonly tokenEnv?: string;
}

/**
 * Where an asynchronous action's task is. XO has answered in two forms: rest-api.mjs ends the 202
 * with the task's path as plain text (res.end(req.baseUrl + '/tasks/' + task.id)), the
 * @xen-orchestra/rest-api controllers set a Location header and answer {"taskId"}
 * (abstract-classes/base-controller.mts createAction). Both are read.
 */
export function taskReference(location: string | null, text: string): string | undefined {
  if (location?.includes("/tasks/")) return location;
  const body = text.trim();
  if (body.startsWith("/") && body.includes("/tasks/")) return body;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === "string" && parsed.includes("/tasks/")) return parsed;
    const taskId = (parsed as { taskId?: unknown } | null)?.taskId;
    if (typeof taskId === "string" && taskId) return `${REST_BASE}/tasks/${taskId}`;
  } catch {
    // Neither form: the caller names what came back.
  }
  return undefined;
}

export class XoRestClient {
  private readonly fetch: typeof fetch;
  private readonly base: string;
  private readonly pollMs: number;

  constructor(private readonly options: XoRestClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.base = options.url.replace(/\/+$/, "");
    this.pollMs = options.pollMs ?? TASK_POLL_MS;
  }

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return (await this.request("GET", path, { signal })).json() as Promise<T>;
  }

  /** A JSON request; returns the parsed answer (undefined when empty). */
  async send<T>(method: "POST" | "PATCH" | "DELETE", path: string, body?: unknown, signal?: AbortSignal): Promise<T | undefined> {
    const response = await this.request(method, path, { ...(body !== undefined ? { json: body } : {}), signal });
    const text = await response.text();
    // XO answers DELETE with express's sendStatus(200): the text "OK", not JSON.
    return text && isJson(response) ? (JSON.parse(text) as T) : undefined;
  }

  /** POSTs an action and waits for its task; returns the task's result. */
  async action(objectPath: string, action: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const path = `${objectPath}/actions/${action}`;
    const response = await this.request("POST", path, { ...(body !== undefined ? { json: body } : {}), signal });
    const text = await response.text();
    const href = taskReference(response.headers.get("location"), text);
    if (!href) throw new XoTaskError(`Xen Orchestra POST ${path} returned no task reference (got ${text.slice(0, 200) || "nothing"})`);
    return this.waitTask(href, `${action} on ${objectPath}`, signal);
  }

  async waitTask(href: string, what: string, signal?: AbortSignal, timeoutMs = TASK_TIMEOUT_MS): Promise<unknown> {
    const path = href.startsWith(REST_BASE) ? href.slice(REST_BASE.length) : href;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const task = await this.get<XoTask>(path, signal);
      if (task.status === "success") return task.result;
      if (task.status === "failure" || task.status === "interrupted") {
        const result = task.result as { message?: string } | undefined;
        throw new XoTaskError(`Xen Orchestra task ${task.id} (${what}) ended in ${task.status}: ${result?.message ?? JSON.stringify(task.result)}`);
      }
      if (Date.now() >= deadline) throw new XoTaskError(`Xen Orchestra task ${task.id} (${what}) still ${task.status} after ${timeoutMs} ms`);
      await pause(this.pollMs, signal);
    }
  }

  /** Streams a local file as the raw body of a POST; returns the answer text. */
  async upload(path: string, file: string, signal?: AbortSignal): Promise<string> {
    const { size } = await stat(file);
    const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
    const response = await this.request("POST", path, { raw: body, size, signal });
    return response.text();
  }

  /** Streams a GET into `file`, through a temp name renamed on success. */
  async download(path: string, file: string, signal?: AbortSignal): Promise<void> {
    const response = await this.request("GET", path, { signal });
    if (!response.body) throw new XoRequestError("GET", path, response.status, "no body");
    const partial = `${file}.${randomBytes(4).toString("hex")}.partial`;
    try {
      await pipeline(Readable.fromWeb(response.body as Parameters<typeof Readable.fromWeb>[0]), createWriteStream(partial), signal ? { signal } : {});
      await rename(partial, file);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  private async request(
    method: string,
    path: string,
    body: { json?: unknown; raw?: ReadableStream<Uint8Array>; size?: number; signal?: AbortSignal | undefined },
  ): Promise<Response> {
    const headers: Record<string, string> = { cookie: `authenticationToken=${this.options.token}`, accept: "application/json" };
    let payload: BodyInit | undefined;
    if (body.json !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body.json);
    } else if (body.raw) {
      headers["content-type"] = "application/octet-stream";
      headers["content-length"] = String(body.size);
      payload = body.raw;
    }
    const response = await this.fetch(`${this.base}${REST_BASE}${path}`, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
      ...(body.raw ? { duplex: "half" } : {}),
      ...(body.signal ? { signal: body.signal } : {}),
    } as RequestInit);
    if (response.status === 401) {
      throw new XoAuthError(`Xen Orchestra at ${this.base} refused the token${this.options.tokenEnv ? ` in ${this.options.tokenEnv}` : ""} (401): create a new one with 'xo-cli create-token'`);
    }
    if (!response.ok) throw new XoRequestError(method, path, response.status, await response.text());
    return response;
  }
}

function isJson(response: Response): boolean {
  return /\bjson\b/.test(response.headers.get("content-type") ?? "");
}
