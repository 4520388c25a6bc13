/**
 * The govc calls VMware Tools guest operations need: the vSphere driver's govc client satisfies it,
 * so the guest channel runs on the driver's connection without depending on the driver.
 */
export interface GovcCall {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Resolve with the failed result instead of throwing. */
  readonly nothrow?: boolean;
  /** Extra environment for this call (GOVC_GUEST_LOGIN). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface GovcRunner {
  run(args: readonly string[], call?: GovcCall): Promise<{ readonly stdout: string }>;
}
