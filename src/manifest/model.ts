/**
 * The build manifest: what went into an image and what came out, written as
 * `<out>/manifest.json` at the end of every successful build. `schemas/build-manifest.schema.json`
 * is generated from these types (`npm run schemas`).
 */

/**
 * A lowercase sha256 digest in hex.
 * @pattern ^[a-f0-9]{64}$
 */
export type Digest = string;

/** An input file of the build (ISO, installer) and the checksum it was checked against. */
export interface ManifestInput {
  /** Display name, e.g. "7zip 23.01 installer". */
  readonly name: string;
  /** The step that uploads it. */
  readonly step: string;
  /** The path or URL it came from. */
  readonly origin: string;
  readonly sha256?: Digest;
  /** Bytes; absent for inputs of cached steps, which were not fetched. */
  readonly size?: number;
  /** False when the step came from the layer cache and the input was not needed. */
  readonly fetched: boolean;
  /** Set when the input is not pinned by sha256 in the recipe or app. */
  readonly unpinnedReason?: string;
}

/**
 * Outcome of a step: it ran (ok), its result came from the layer cache, or it did not apply. A
 * manifest records one failed step at most: verify, whose checks failed on a built artifact (any
 * other failure leaves no manifest).
 */
export type ManifestStepStatus = "ok" | "cached" | "skipped" | "failed";

/** One step of the build: a plan step (with its layer hash) or a runner step (fetch, capture). */
export interface ManifestStep {
  readonly id: string;
  readonly title: string;
  readonly status: ManifestStepStatus;
  /** The step's result came from the layer cache (status cached); a skipped step is no hit. */
  readonly cacheHit: boolean;
  /** Why the step was cached (which layer) or skipped (why it does not apply). */
  readonly why?: string;
  /** Cumulative step hash: the layer-cache key (plan steps only). */
  readonly hash?: Digest;
  /** ISO timestamp. */
  readonly start: string;
  /** ISO timestamp. */
  readonly end: string;
  readonly durationMs: number;
  /** Exit code of the step's last guest command (guest steps that ran). */
  readonly exitCode?: number;
  /** The step's log file, relative to the manifest. */
  readonly log?: string;
}

/** The PVS vDisk. */
export interface VhdxOutput {
  readonly kind: "vhdx";
  /** The file, relative to the manifest. */
  readonly path: string;
  readonly size: number;
  readonly sha256: Digest;
}

/** The MCS snapshot of the powered-off golden VM. */
export interface SnapshotOutput {
  readonly kind: "snapshot";
  readonly name: string;
  /**
   * The hypervisor's reference to the snapshot. When the stack names a Citrix hosting unit
   * (`rebake:hypervisor.hostingUnit`), this is the path MCS takes,
   * `XDHyp:\HostingUnits\<unit>\[<pool>.resourcepool\...]<vm>.vm\<root>.snapshot\...\<snapshot>.snapshot`.
   */
  readonly ref: string;
  /**
   * Where MCS finds the snapshot, read from the hypervisor after taking it: the vSphere resource
   * pools holding the VM (outermost first) and the snapshot chain from the root of the VM's
   * snapshot tree down to this snapshot. Publish builds each catalog's image path from it.
   */
  readonly placement?: { readonly resourcePools: readonly string[]; readonly snapshotChain: readonly string[] };
  /** The powered-off golden VM that holds the snapshot: publish snapshots and serves this VM. */
  readonly vm: { readonly name: string; readonly id: string };
}

/** An artifact of the build. */
export type ManifestOutput = VhdxOutput | SnapshotOutput;

/** The result of one check run by `rebake verify`. */
export interface CheckResult {
  readonly name: string;
  readonly description?: string;
  readonly passed: boolean;
  readonly exitCode?: number;
  readonly durationMs: number;
  /** Why it failed: the tail of its output, or the timeout. */
  readonly detail?: string;
}

/** The verification of the artifact, recorded by `rebake verify`. */
export interface Verification {
  readonly passed: boolean;
  /** ISO timestamp. */
  readonly at: string;
  readonly durationMs: number;
  /** The artifact's sha256 after the verification boot (it must not change). */
  readonly artifactSha256?: Digest;
  readonly checks: readonly CheckResult[];
}

/** Wall-clock totals of the build in milliseconds. */
export interface Timings {
  readonly totalMs: number;
  /** Time spent inside guest commands and uploads. */
  readonly inGuestMs: number;
  /** Time spent waiting for the OS install, boots and reboots. */
  readonly bootMs: number;
  /** Time spent capturing the artifact. */
  readonly captureMs: number;
}

/** A golden image build. */
export interface BuildManifest {
  /** Manifest format version. */
  readonly manifestVersion: 1;
  readonly buildId: string;
  readonly recipe: {
    readonly name: string;
    readonly version: string;
    /** The recipe file, absolute, so `rebake verify` finds its checks. */
    readonly file: string;
    /** Content address of everything that determines the image. */
    readonly hash: Digest;
  };
  readonly target: "mcs" | "pvs";
  /** Hypervisor driver the build ran on. */
  readonly driver: string;
  /** ISO timestamp. */
  readonly started: string;
  /** ISO timestamp. */
  readonly finished: string;
  readonly inputs: readonly ManifestInput[];
  readonly steps: readonly ManifestStep[];
  readonly outputs: readonly ManifestOutput[];
  /** Versions of the tools that made the image: qemu, qemu-img, xorriso, node, rebake. */
  readonly tools: Readonly<Record<string, string>>;
  readonly timings: Timings;
  /** Warnings of the plan (unpinned inputs and the like). */
  readonly warnings: readonly string[];
  /**
   * Whether the guest continued from the memory state saved with the last cached layer instead
   * of booting from it. Absent when the VM never started (every step came from the cache).
   */
  readonly resumedFromMemory?: boolean;
  readonly verification?: Verification;
}
