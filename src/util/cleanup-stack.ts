/**
 * The cleanup stack: whatever a step acquires (a VM, a qemu process, a temp file, an uncommitted
 * layer) is pushed here the moment it exists and released in reverse order in `finally`, whether
 * the build succeeded, failed or was interrupted. Release errors are collected, never thrown over
 * the build's own error.
 */
export interface CleanupEntry {
  readonly name: string;
  readonly release: () => Promise<void>;
  /**
   * Part of the golden VM: with `--on-error keep` it is left in place after a failure so the VM
   * stays reachable for debugging.
   */
  readonly keepOnError: boolean;
}

export interface UnwindResult {
  /** Entries that were left in place (the keep policy after a failure), in acquisition order. */
  readonly kept: readonly CleanupEntry[];
  /** Releases that failed, with why; the build reports them as warnings. */
  readonly errors: readonly { readonly name: string; readonly error: Error }[];
}

export class CleanupStack {
  readonly #entries: CleanupEntry[] = [];

  /** Registers a release; call it right after the thing is acquired. Returns a disposer that
   * releases early (e.g. a temp file renamed into place no longer needs removing). */
  push(name: string, release: () => Promise<void>, options: { readonly keepOnError?: boolean } = {}): () => void {
    const entry: CleanupEntry = { name, release, keepOnError: options.keepOnError ?? false };
    this.#entries.push(entry);
    return () => {
      const index = this.#entries.lastIndexOf(entry);
      if (index >= 0) this.#entries.splice(index, 1);
    };
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Releases everything in reverse order; `keep` leaves the keep-on-error entries alone. */
  async unwind(keep: (entry: CleanupEntry) => boolean = () => false): Promise<UnwindResult> {
    const kept: CleanupEntry[] = [];
    const errors: { name: string; error: Error }[] = [];
    while (this.#entries.length > 0) {
      const entry = this.#entries.pop()!;
      if (keep(entry)) {
        kept.unshift(entry);
        continue;
      }
      try {
        await entry.release();
      } catch (error) {
        errors.push({ name: entry.name, error: error as Error });
      }
    }
    return { kept, errors };
  }
}

/** Releases entries that were kept, newest first, e.g. once the user is done debugging a kept VM. */
export async function releaseKept(kept: readonly CleanupEntry[]): Promise<void> {
  const stack = new CleanupStack();
  for (const entry of kept) stack.push(entry.name, entry.release);
  await stack.unwind();
}
