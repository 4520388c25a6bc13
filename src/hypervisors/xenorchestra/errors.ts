/** One class per way a Xen Orchestra build fails. */
import { HypervisorError } from "../driver.ts";

export class XoError extends HypervisorError {}

/** XO answered 401: the token is wrong or expired. */
export class XoAuthError extends XoError {}

/** A request XO refused (4xx/5xx other than 401); the message carries XO's answer. */
export class XoRequestError extends XoError {
  constructor(readonly method: string, readonly path: string, readonly status: number, body: string) {
    super(`Xen Orchestra ${method} ${path} answered ${status}: ${body.slice(0, 500) || "(empty body)"}`);
  }
}

/** An XO task ended in failure or did not end in time. */
export class XoTaskError extends XoError {}

/** A pool, template or SR named in the settings does not exist; lists what does. */
export class XoInventoryError extends XoError {
  constructor(readonly kind: string, readonly wanted: string, readonly existing: readonly string[]) {
    super(
      `${kind} "${wanted}" does not exist in Xen Orchestra; ` +
        (existing.length > 0 ? `existing ${kind}s: ${existing.join(", ")}` : `no ${kind}s exist`) +
        `: fix the ${kind} in the stack settings`,
    );
  }
}

export class XoTimeoutError extends XoError {
  constructor(readonly step: string, readonly vm: string, readonly timeoutMs: number) {
    super(`VM ${vm}: step "${step}" did not finish within ${timeoutMs} ms`);
  }
}
