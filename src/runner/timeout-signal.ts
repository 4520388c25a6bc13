/**
 * A signal that aborts after a time limit. Unlike AbortSignal.timeout its timer keeps the process
 * alive, so a limit fires even when the work it guards waits on nothing else; `clear` stops it.
 */
export class TimeLimitReached extends Error {
  constructor(readonly ms: number) {
    super(`time limit of ${ms} ms reached`);
    this.name = "TimeLimitReached";
  }
}

export function timeoutSignal(ms: number): { readonly signal: AbortSignal; readonly clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeLimitReached(ms)), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
