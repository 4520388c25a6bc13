/**
 * The layers of a --no-cache build: nothing is committed, so the disk is one layer in the work
 * dir, frozen once after the last step (what the capture reads and MCS snapshots sit on).
 */
import { join } from "node:path";
import { BuildOnlyLayers } from "./build-only-layers.ts";
import type { LayerStore } from "./layer-store.ts";

const SINGLE_LAYER = "disk.qcow2";

export class SingleLayer extends BuildOnlyLayers implements LayerStore {
  readonly kind = "single";

  constructor(
    private readonly stepCount: number,
    readonly dir: string,
    private readonly tailPath: string,
  ) {
    super();
  }

  describe(): string {
    return "--no-cache: building from the ISO";
  }

  writePath(index: number): string {
    return index < this.stepCount ? join(this.dir, SINGLE_LAYER) : this.tailPath;
  }

  freezesAfter(index: number): boolean {
    return index === this.stepCount - 1;
  }
}
