/**
 * The layers of a --no-cache build: nothing is committed, so the disk is one layer in the work
 * dir, frozen once after the last step (what the capture reads and MCS snapshots sit on).
 */
import { join } from "node:path";
import type { CheckpointOptions } from "../../hypervisors/driver.ts";
import type { LayerStore, ResumePoint } from "./layer-store.ts";

const SINGLE_LAYER = "disk.qcow2";

export class SingleLayer implements LayerStore {
  readonly kind = "single";

  constructor(
    private readonly stepCount: number,
    readonly dir: string,
    private readonly tailPath: string,
  ) {}

  describe(): string {
    return "--no-cache: building from the ISO";
  }

  async resume(): Promise<ResumePoint> {
    return { prefix: 0 };
  }

  writePath(index: number): string {
    return index < this.stepCount ? join(this.dir, SINGLE_LAYER) : this.tailPath;
  }

  freezesAfter(index: number): boolean {
    return index === this.stepCount - 1;
  }

  // The work dir goes with the build, and its one layer with it.
  async begin(): Promise<void> {}

  checkpointOptions(): CheckpointOptions {
    return {};
  }

  async commit(): Promise<undefined> {
    return undefined;
  }

  // Nothing is committed, so nothing resumes from it.
  async evict(): Promise<void> {}
}
