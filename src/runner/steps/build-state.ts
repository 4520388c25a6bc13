/**
 * What the build's steps share: the request and dependencies (fixed for the build) and the state
 * the steps fill in as they run. Each step file reads and writes only the fields it names.
 */
import type { DownloadCache, FetchedInput } from "../../cache/download-cache.ts";
import type { LayerCache } from "../../cache/layer-cache.ts";
import type { GuestChannel } from "../../guest/channel.ts";
import type { DiskFormat, HypervisorDriver, VmAccess, VmHandle } from "../../hypervisors/driver.ts";
import type { ManifestOutput, Verification } from "../../manifest/model.ts";
import type { Check, Recipe, SecretRef } from "../../recipe/model.ts";
import type { Plan } from "../../recipe/plan-model.ts";
import type { Clock, EmitEvent } from "../events.ts";
import type { TimeSpent } from "../guest-step.ts";
import type { LayerStore, ResumePoint } from "../layers/layer-store.ts";
import type { OnErrorPolicy } from "../on-error.ts";
import type { StepLog } from "../step-log.ts";
import type { VmWatch, WatchTimers } from "../vm-watch.ts";

/** Writes the answer ISO (autounattend.xml or cloud-init CIDATA) for this build. */
export type MakeAnswerMedia = (recipe: Recipe, options: { readonly buildId: string; readonly outPath: string; readonly signal: AbortSignal }) => Promise<void>;

/** Converts the driver's exported disk into a VHDX, hashing while it writes. */
export type CaptureVhdx = (
  source: { readonly path: string; readonly format: DiskFormat },
  outPath: string,
  options: { readonly signal: AbortSignal; readonly onProgress: (done: number, total: number) => void },
) => Promise<{ readonly size: number; readonly sha256: string }>;

/** What the build runs on: passed in, so unit tests use recording fakes. */
export interface BuildDeps {
  readonly driver: HypervisorDriver;
  readonly downloads: DownloadCache;
  readonly layers: LayerCache;
  readonly answerMedia: MakeAnswerMedia;
  readonly capture: CaptureVhdx;
  readonly toolVersions: () => Promise<Record<string, string>>;
  readonly resolveSecret: (ref: SecretRef) => string;
  readonly clock?: Clock;
  /** Parent of the build's work dir (answer ISO, layers of a --no-cache build). @default os.tmpdir() */
  readonly tempRoot?: string;
  /** The watchdog's clock and sleep. @default real time */
  readonly watchTimers?: WatchTimers;
}

export interface BuildRequest {
  readonly plan: Plan;
  readonly recipe: Recipe;
  readonly outDir: string;
  readonly signal: AbortSignal;
  readonly emit: EmitEvent;
  /**
   * Boot the artifact and run these checks as the build's last step; absent, verification is
   * skipped (and the manifest says so).
   */
  readonly verify?: {
    readonly checks: readonly Check[];
    /** Check scripts given as `file` are relative to this directory (the recipe's). */
    readonly recipeDir: string;
  };
  /** Ignore the layer cache: build from the ISO in a private work dir, commit nothing. */
  readonly noCache?: boolean;
  /** @default "cleanup" */
  readonly onError?: OnErrorPolicy;
  /** The whole build's time limit. */
  readonly timeoutMs?: number;
  readonly buildId?: string;
  /** @default DEFAULT_INSTALL_TIMEOUT_MS */
  readonly installTimeoutMs?: number;
  /** @default DEFAULT_BOOT_TIMEOUT_MS */
  readonly bootTimeoutMs?: number;
  /**
   * How long a wait on the guest (install, boot, shutdown) may see nothing move (console, disk
   * writes, CPU) before it fails as stalled. @default DEFAULT_STALL_WINDOW_MS
   */
  readonly stallWindowMs?: number;
  /**
   * Told how to reach the VM when `--on-error keep` left it running, and how to release it (and
   * its work dir and layer) once the user is done.
   */
  readonly onKept?: (access: VmAccess, release: () => Promise<void>) => void;
}

/** The build's fixed settings, resolved once. */
export interface BuildEnv {
  readonly request: BuildRequest;
  readonly deps: BuildDeps;
  readonly clock: Clock;
  readonly bootTimeoutMs: number;
  readonly installTimeoutMs: number;
  readonly stallWindowMs: number;
  /** PVS captures a vDisk; MCS keeps the golden VM and its snapshot. */
  readonly isPvs: boolean;
}

export interface BuildState {
  readonly buildId: string;
  /** The private work dir (answer ISO, private layers), set by prepare. */
  workDir: string;
  /** Set by prepare. */
  layers?: LayerStore;
  /** Where the VM starts, set by prepare. */
  resume: ResumePoint;
  files: Map<string, FetchedInput[]>;
  answersIso?: string;
  vm?: VmHandle;
  releaseVm?: () => void;
  channel?: GuestChannel;
  releaseChannel?: () => void;
  running: boolean;
  /** The watchdog of the VM's current run, when the driver can observe it. */
  watch?: VmWatch;
  /** The log of the plan step running now: the VM console goes there too. */
  log?: StepLog;
  /** Set until the first boot of a VM built on a cached layer reached its agent: that layer's step index. */
  bootingCachedLayer?: number;
  /** The guest continued from the memory state saved with the cached layer instead of booting. */
  resumedFromMemory?: boolean;
  exitCodes: Map<string, number>;
  spent: TimeSpent & { captureMs: number };
  outputs: ManifestOutput[];
  tools: Record<string, string>;
  /** Set by the verify step, passed or not. */
  verification?: Verification;
}

export function newBuildState(buildId: string): BuildState {
  return {
    buildId,
    workDir: "",
    resume: { prefix: 0 },
    files: new Map(),
    running: false,
    exitCodes: new Map(),
    spent: { inGuestMs: 0, bootMs: 0, captureMs: 0 },
    outputs: [],
    tools: {},
  };
}

/** The layer store prepare chose; a step that runs before prepare is a bug in the step list. */
export function layersOf(state: BuildState): LayerStore {
  if (!state.layers) throw new Error("internal: the build's layer store is chosen by the prepare step, which has not run");
  return state.layers;
}

/** The VM create-vm made; a step that needs it before is a bug in the step list. */
export function vmOf(state: BuildState): VmHandle {
  if (!state.vm) throw new Error("internal: no VM");
  return state.vm;
}

export const LOG_DIR = "logs";

const DEFAULT_SNAPSHOT_NAME = "{name}-{version}-{build}";

/** The MCS snapshot's name (and the QEMU golden VM's disk file), from the recipe's template. */
export function snapshotName(request: BuildRequest, buildId: string): string {
  const target = request.recipe.target;
  const template = target.kind === "mcs" ? (target.snapshotName ?? DEFAULT_SNAPSHOT_NAME) : DEFAULT_SNAPSHOT_NAME;
  return template
    .replaceAll("{name}", request.plan.recipe.name)
    .replaceAll("{version}", request.plan.recipe.version)
    .replaceAll("{build}", buildId);
}

/** A log line of the running step. */
export function note(env: BuildEnv, step: string, message: string): void {
  env.request.emit({ type: "log", at: env.clock().toISOString(), step, message });
}
