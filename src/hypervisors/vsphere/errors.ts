/** One class per way a vSphere build fails, so callers branch with instanceof. */
import { HypervisorError } from "../driver.ts";

export class VsphereError extends HypervisorError {}

/** vCenter refused the login. */
export class VsphereAuthError extends VsphereError {}

/** A datastore, network, pool or folder named in the settings does not exist; lists what does. */
export class VsphereInventoryError extends VsphereError {
  constructor(readonly kind: string, readonly wanted: string, readonly existing: readonly string[]) {
    super(
      `${kind} "${wanted}" does not exist in vSphere; ` +
        (existing.length > 0 ? `existing ${kind}s: ${existing.join(", ")}` : `no ${kind}s exist`) +
        `: fix the ${kind} in the stack settings`,
    );
  }
}

/** A step (tools, IP, power off) did not finish in time; the message names the step. */
export class VsphereTimeoutError extends VsphereError {
  constructor(readonly step: string, readonly vm: string, readonly timeoutMs: number, detail = "") {
    super(`VM ${vm}: step "${step}" did not finish within ${timeoutMs} ms${detail ? ` (${detail})` : ""}`);
  }
}

export class VsphereUploadError extends VsphereError {}
