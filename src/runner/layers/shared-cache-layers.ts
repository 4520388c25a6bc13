/**
 * The layers of a cached build: each step's layer is `<cache>/<cumulative hash>.qcow2`, committed
 * once the step succeeded, with what the driver saved beside it (VM state, UEFI variables, TPM
 * state). A rebuild starts from the longest committed prefix.
 */
import { resolve } from "node:path";
import type { LayerCache } from "../../cache/layer-cache.ts";
import type { CheckpointOptions, LayerRef } from "../../hypervisors/driver.ts";
import type { PlanStep } from "../../recipe/plan-model.ts";
import type { CleanupStack } from "../../util/cleanup-stack.ts";
import type { LayerStore, ResumePoint } from "./layer-store.ts";

export class SharedCacheLayers implements LayerStore {
  readonly kind = "shared-cache";
  readonly dir: string;

  constructor(
    private readonly steps: readonly PlanStep[],
    private readonly cache: LayerCache,
    private readonly tailPath: string,
    /** Whether the running VM's memory state is worth keeping with the layer of step `index`. */
    private readonly keepState: (index: number) => boolean,
  ) {
    this.dir = cache.dir;
  }

  describe(resume: ResumePoint): string {
    return `${resume.prefix} of ${this.steps.length} steps cached`;
  }

  async resume(): Promise<ResumePoint> {
    await this.cache.ensureDir();
    const prefix = await this.cache.longestPrefix(this.steps.map((s) => s.hash));
    if (prefix === 0) return { prefix };
    const hash = this.steps[prefix - 1]!.hash;
    const saved = await this.cache.companions(hash);
    return { prefix, base: { layer: this.cache.layerPath(hash), ...saved } };
  }

  writePath(index: number): string {
    const step = this.steps[index];
    return step ? this.cache.layerPath(step.hash) : this.tailPath;
  }

  freezesAfter(): boolean {
    return true;
  }

  async begin(index: number, cleanup: CleanupStack): Promise<void> {
    const step = this.steps[index];
    if (!step) return;
    await this.cache.discardUncommitted(step.hash);
    // A kept VM (--on-error keep) still writes into it: removed when the user releases the VM.
    cleanup.push(`remove the uncommitted layer of ${step.id}`, () => this.cache.discardUncommitted(step.hash), { keepOnError: true });
  }

  checkpointOptions(index: number, running: boolean): CheckpointOptions {
    const hash = this.steps[index]!.hash;
    return {
      // A running VM's state saved with a cached layer lets a rebuild resume it instead of booting.
      ...(running && this.keepState(index) ? { saveState: this.cache.companionPath(hash, "state") } : {}),
      saveFirmwareVars: this.cache.companionPath(hash, "firmwareVars"),
      saveTpmState: this.cache.companionPath(hash, "tpmState"),
    };
  }

  async commit(index: number, layer: LayerRef): Promise<string> {
    const step = this.steps[index]!;
    const expected = this.cache.layerPath(step.hash);
    // The cache commits files it named: a driver that froze something else is not one whose layers it can keep.
    if (resolve(layer) !== resolve(expected)) throw new Error(`internal: the driver froze ${layer} for step ${step.id}, the layer cache expected ${expected}`);
    await this.cache.commit(step.hash, { stepId: step.id, parent: index > 0 ? this.steps[index - 1]!.hash : null });
    return `layer committed: ${expected}`;
  }

  async evict(index: number): Promise<void> {
    await this.cache.remove(this.steps[index]!.hash);
  }
}
