/**
 * Whether the guest has the agent's virtio-serial port open, from QEMU's VSERPORT_CHANGE events.
 * Requests sent before the guest opens the port wait unanswered in the host socket, so the channel
 * waits for this instead of guessing with timeouts, and can tell "the agent never started in the
 * guest" from "the agent started but does not answer".
 */
import type { AgentPortWatch } from "../../guest/qga/qga-channel.ts";
import type { QmpEvent } from "./qmp-client.ts";

export class AgentPortState implements AgentPortWatch {
  private open = false;
  private readonly waiters = new Set<{ readonly open: boolean; readonly reached: () => void }>();

  constructor(private readonly portId: string) {}

  /** Feeds every QMP event of the VM; only VSERPORT_CHANGE of this port matters. */
  onEvent(event: QmpEvent): void {
    if (event.event !== "VSERPORT_CHANGE" || event.data?.id !== this.portId) return;
    this.set(event.data.open === true);
  }

  /** A new QEMU process starts with the port closed. */
  reset(): void {
    this.set(false);
  }

  get isOpen(): boolean {
    return this.open;
  }

  waitOpen(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.waitFor(true, timeoutMs, signal);
  }

  waitClosed(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.waitFor(false, timeoutMs, signal);
  }

  private waitFor(open: boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.open === open) return Promise.resolve(true);
    if (signal?.aborted || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (reached: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.waiters.delete(waiter);
        resolve(reached);
      };
      const waiter = { open, reached: () => done(true) };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  private set(open: boolean): void {
    this.open = open;
    for (const waiter of [...this.waiters]) if (waiter.open === open) waiter.reached();
  }
}
