/**
 * Where a build's disk layers live, chosen once per build: the shared layer cache (layers named by
 * step hash, kept for later builds), a private work dir (one layer per step, gone with the build),
 * or a single layer (frozen once, after the last step). The store owns the layer paths, the
 * resumable prefix, commit, discard and what is saved beside a layer, so the build's steps ask it
 * instead of testing flags.
 */
import type { CheckpointOptions, DriverCapabilities, LayerRef, SavedVmState } from "../../hypervisors/driver.ts";
import type { LayerCache } from "../../cache/layer-cache.ts";
import type { PlanStep, StepKind } from "../../recipe/plan-model.ts";
import type { CleanupStack } from "../../util/cleanup-stack.ts";
import { PrivateLayers } from "./private-layers.ts";
import { SharedCacheLayers } from "./shared-cache-layers.ts";
import { SingleLayer } from "./single-layer.ts";

export type LayerStoreKind = "shared-cache" | "private" | "single";

/** Where a VM starts: after the cached prefix, on the layer of the step before it. */
export interface ResumePoint {
  /** How many leading plan steps need not run. */
  readonly prefix: number;
  /** The layer of step `prefix - 1` and what was saved with it; absent when the build starts from the ISO. */
  readonly base?: {
    readonly layer: LayerRef;
    /** The VM's memory and device state at that layer, checked by whoever loads it. */
    readonly state?: SavedVmState;
    readonly firmwareVars?: string;
    readonly tpmState?: string;
  };
}

export interface LayerStore {
  readonly kind: LayerStoreKind;
  /** Where the layer files go: named when that disk is full. */
  readonly dir: string;
  /** One line for the build's log: where layers go and what is reused. */
  describe(resume: ResumePoint): string;
  /** The longest prefix of steps with usable layers (0 when the store keeps none). */
  resume(): Promise<ResumePoint>;
  /** The file the VM writes the layer of step `index` into; `steps.length` is the tail after the last. */
  writePath(index: number): string;
  /** Whether the layer is frozen after step `index`. */
  freezesAfter(index: number): boolean;
  /**
   * Called before the VM writes the layer of step `index`: removes what an earlier attempt left
   * and pushes the removal of this attempt's layer, should the build end without committing it.
   */
  begin(index: number, cleanup: CleanupStack): Promise<void>;
  /** What the checkpoint after step `index` saves beside the frozen layer. */
  checkpointOptions(index: number, running: boolean): CheckpointOptions;
  /** Keeps the frozen layer of step `index`; returns what to log, if anything. */
  commit(index: number, layer: LayerRef): Promise<string | undefined>;
  /** Drops the committed layer of step `index` (its guest did not come back), so no build resumes from it. */
  evict(index: number): Promise<void>;
}

export interface LayerStoreChoice {
  readonly steps: readonly PlanStep[];
  readonly noCache: boolean;
  readonly capabilities: DriverCapabilities;
  readonly driverName: string;
  readonly cache: LayerCache;
  /** The build's private work dir. */
  readonly workDir: string;
  /** Where the VM writes after the last layer is frozen (the MCS golden VM's disk, or scratch). */
  readonly tailPath: string;
}

/**
 * The steps that change from one build to the next in an image's upkeep: the monthly updates, app
 * versions and custom scripts. Drivers, hypervisor tools, the VDA and the target-device software
 * change a few times a year; the seal and shutdown change with rebake itself.
 */
const VOLATILE_KINDS: ReadonlySet<StepKind> = new Set(["updates", "app", "custom"]);

/**
 * Whether the running VM's memory state is kept with the layer of step `index`. Measured on the
 * demo (512 MiB guest): about 42 MiB compressed per layer against 1-2 MiB of disk, 0.4 s to save
 * on every build that commits the layer, and a rebuild that resumes from it skips a boot (8-40 s
 * under TCG, minutes for Windows). It pays only where a rebuild is likely to resume: before a step
 * that changes between builds. Before any other step (the target-device software, the seal) the
 * state would cost every build its save and almost never be used; a rebuild from there boots.
 */
export function keepStateFor(steps: readonly Pick<PlanStep, "kind">[]): (index: number) => boolean {
  return (index) => {
    const next = steps[index + 1];
    return next !== undefined && VOLATILE_KINDS.has(next.kind);
  };
}

/**
 * The one decision: a driver whose layers outlive the VM builds into the shared cache, or into
 * one layer with --no-cache (nothing is committed, so freezing per step would only cost freezes);
 * a driver whose layers go with the VM keeps them for this build only.
 */
export function chooseLayerStore(choice: LayerStoreChoice): LayerStore {
  if (!choice.capabilities.layersOutliveVm) return new PrivateLayers(choice.steps, choice.workDir, choice.tailPath, choice.driverName);
  if (choice.noCache) return new SingleLayer(choice.steps.length, choice.workDir, choice.tailPath);
  return new SharedCacheLayers(choice.steps, choice.cache, choice.tailPath, keepStateFor(choice.steps));
}
