/**
 * Posts WS-Management envelopes with HTTP Basic authentication (node:http/https, so a lab guest's
 * self-signed HTTPS listener can be trusted by its certificate) and turns replies into text or
 * typed errors: 401 is bad credentials, a SOAP fault carries its WSManFault code and reason, and a
 * reply that does not relate to the request's MessageID is refused.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { GuestDisconnectedError, GuestError, GuestTimeoutError } from "../channel.ts";
import type { Envelope } from "./wsman-envelope.ts";
import { elements, firstText } from "./xml.ts";

export class WinrmAuthError extends GuestError {}
export class WinrmFaultError extends GuestError {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}
export class WinrmProtocolError extends GuestError {}

export interface WinrmEndpoint {
  /** e.g. http://10.0.0.5:5985/wsman or https://10.0.0.5:5986/wsman */
  readonly url: string;
  readonly user: string;
  readonly password: string;
  /** PEM certificate(s) to trust for an https listener with a self-signed certificate. */
  readonly ca?: string;
}

const CONTENT_TYPE = "application/soap+xml;charset=UTF-8";

/** Sends one envelope; resolves with the reply body, or rejects with what went wrong. */
export async function post(endpoint: WinrmEndpoint, envelope: Envelope, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const url = new URL(endpoint.url);
  const body = Buffer.from(envelope.xml, "utf8");
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = send(
      url,
      {
        method: "POST",
        headers: {
          "Content-Type": CONTENT_TYPE,
          "Content-Length": body.length,
          Authorization: `Basic ${Buffer.from(`${endpoint.user}:${endpoint.password}`).toString("base64")}`,
        },
        ...(endpoint.ca ? { ca: endpoint.ca } : {}),
        timeout: timeoutMs,
        ...(signal ? { signal } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new GuestTimeoutError(`WinRM at ${endpoint.url} did not answer ${shortAction(envelope.action)} within ${timeoutMs} ms`)));
    request.on("error", (error) => {
      if (signal?.aborted) return reject(signal.reason);
      if (error instanceof GuestError) return reject(error);
      reject(new GuestDisconnectedError(`WinRM at ${endpoint.url} is not reachable: ${error.message}`));
    });
    request.end(body);
  });
  if (status === 401) {
    throw new WinrmAuthError(
      `WinRM at ${endpoint.url} refused user ${endpoint.user} (HTTP 401): check the password variable, and that the listener allows Basic authentication (winrm set winrm/config/service/auth @{Basic="true"}; on http also AllowUnencrypted="true")`,
    );
  }
  if (status !== 200) throw faultError(endpoint, envelope, status, text);
  const relatesTo = firstText(text, "RelatesTo");
  if (relatesTo !== envelope.messageId) {
    throw new WinrmProtocolError(`WinRM at ${endpoint.url} answered ${shortAction(envelope.action)} ${envelope.messageId} with a reply to ${relatesTo ?? "nothing"}`);
  }
  return text;
}

function faultError(endpoint: WinrmEndpoint, envelope: Envelope, status: number, text: string): GuestError {
  const code = elements(text, "WSManFault")[0]?.attributes.Code;
  const reason = firstText(text, "Message") || firstText(text, "Text") || text.slice(0, 200) || "no body";
  return new WinrmFaultError(`WinRM at ${endpoint.url} failed ${shortAction(envelope.action)} (HTTP ${status}${code ? `, WSManFault ${code}` : ""}): ${reason.trim()}`, code);
}

function shortAction(action: string): string {
  return action.slice(action.lastIndexOf("/") + 1);
}
