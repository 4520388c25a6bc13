/** JSON over HTTP for the XO and CVAD providers: errors name the call, the status and the body. */
export class HttpError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = new.target.name;
  }
}

export type Fetch = typeof fetch;

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The parsed JSON body; undefined when empty. */
  readonly body: unknown;
}

/** A JSON request; a non-2xx answer throws HttpError. */
export async function request(fetchImpl: Fetch, method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<HttpAnswer> {
  const response = await fetchImpl(url, {
    method,
    headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new HttpError(`${method} ${url} answered ${response.status} ${response.statusText}: ${text.slice(0, 500)}`, response.status);
  // Only JSON is parsed: XO answers a DELETE with express's sendStatus(200), the text "OK".
  const json = /\bjson\b/.test(response.headers.get("content-type") ?? "");
  return { status: response.status, headers: response.headers, body: text && json ? (JSON.parse(text) as unknown) : undefined };
}

export async function requestJson(fetchImpl: Fetch, method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<unknown> {
  return (await request(fetchImpl, method, url, headers, body)).body;
}
