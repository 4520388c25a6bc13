/** JSON over HTTP for the XO and CVAD providers: errors name the call, the status and the body. */
export class HttpError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = new.target.name;
  }
}

export type Fetch = typeof fetch;

export async function requestJson(fetchImpl: Fetch, method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<unknown> {
  const response = await fetchImpl(url, {
    method,
    headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new HttpError(`${method} ${url} answered ${response.status} ${response.statusText}: ${text.slice(0, 500)}`, response.status);
  return text ? (JSON.parse(text) as unknown) : undefined;
}
