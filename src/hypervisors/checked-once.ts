/**
 * A check a driver runs once before its first VM (login, inventory): concurrent and later callers
 * share the one run; a failed run is forgotten so that the next call checks again.
 */
export class CheckedOnce {
  private pending: Promise<void> | undefined;

  run(check: () => Promise<void>): Promise<void> {
    this.pending ??= check().catch((error: unknown) => {
      this.pending = undefined;
      throw error;
    });
    return this.pending;
  }
}
