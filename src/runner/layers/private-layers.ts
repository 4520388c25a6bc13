/**
 * The layers of a driver whose checkpoints go with the build VM (vSphere, Xen Orchestra
 * snapshots): one per step for this build only, never committed, never offered to a later build.
 * A kept VM (--on-error keep) still has them to go back to.
 */
import { join } from "node:path";
import type { CheckpointOptions } from "../../hypervisors/driver.ts";
import type { PlanStep } from "../../recipe/plan-model.ts";
import type { LayerStore, ResumePoint } from "./layer-store.ts";

export class PrivateLayers implements LayerStore {
  readonly kind = "private";

  constructor(
    private readonly steps: readonly PlanStep[],
    readonly dir: string,
    private readonly tailPath: string,
    private readonly driverName: string,
  ) {}

  describe(): string {
    return `layer cache off: ${this.driverName} layers are snapshots of the build VM and go with it; building from the ISO`;
  }

  async resume(): Promise<ResumePoint> {
    return { prefix: 0 };
  }

  writePath(index: number): string {
    const step = this.steps[index];
    return step ? join(this.dir, `${String(index).padStart(2, "0")}-${step.id}.qcow2`) : this.tailPath;
  }

  freezesAfter(): boolean {
    return true;
  }

  // Nothing outlives the build: the snapshots go with the VM, local files with the work dir.
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
