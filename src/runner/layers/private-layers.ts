/**
 * The layers of a driver whose checkpoints go with the build VM (vSphere, Xen Orchestra
 * snapshots): one per step for this build only, never committed, never offered to a later build.
 * A kept VM (--on-error keep) still has them to go back to.
 */
import { join } from "node:path";
import type { PlanStep } from "../../recipe/plan-model.ts";
import { BuildOnlyLayers } from "./build-only-layers.ts";
import type { LayerStore } from "./layer-store.ts";

export class PrivateLayers extends BuildOnlyLayers implements LayerStore {
  readonly kind = "private";

  constructor(
    private readonly steps: readonly PlanStep[],
    readonly dir: string,
    private readonly tailPath: string,
    private readonly driverName: string,
  ) {
    super();
  }

  describe(): string {
    return `layer cache off: ${this.driverName} layers are snapshots of the build VM and go with it; building from the ISO`;
  }

  writePath(index: number): string {
    const step = this.steps[index];
    return step ? join(this.dir, `${String(index).padStart(2, "0")}-${step.id}.qcow2`) : this.tailPath;
  }

  freezesAfter(): boolean {
    return true;
  }
}
