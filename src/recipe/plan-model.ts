/**
 * The plan: the ordered steps a recipe turns into. `rebake plan` prints it, the build runner
 * executes it, and each step's cumulative `hash` is the key of the layer cache.
 */
import type { OsFamily, SecretRef, Shell, Source } from "./model.ts";

export type StepKind =
  | "os-install"
  | "updates"
  | "driver"
  | "hypervisor-tools"
  | "app"
  | "vda"
  | "target-device"
  | "domain-join"
  | "custom"
  | "seal"
  | "shutdown";

/** A file the step needs: fetched into the download cache and uploaded into the guest. */
export interface PlanInput {
  /** Display name, e.g. "notepad-plus-plus 8.6.2 installer". */
  readonly name: string;
  readonly source: Source;
  /** Absolute local path when the source is a path. */
  readonly resolvedPath?: string;
  /** The sha256 that identifies the input: the pinned one, or the hash of the local file. */
  readonly sha256?: string;
  /** Set when the input is deliberately unpinned; plan and build show it loudly. */
  readonly unpinnedReason?: string;
  /** Where the input lands inside the guest: `<step uploadDir>/<file name>`. */
  readonly guestPath?: string;
}

/** A command run inside the guest. */
export interface GuestCommand {
  readonly shell: Shell;
  /** The command, placeholders already filled in. Uploaded inputs land in `uploadDir`. */
  readonly command: string;
  readonly successCodes: readonly number[];
  /** Exit codes that mean "succeeded, reboot required" (3010 on Windows). */
  readonly rebootCodes: readonly number[];
  readonly timeoutSeconds: number;
  /**
   * Exit codes that mean "reboot, then run this command again" (Windows Update rounds, the VDA
   * installer's 3). A subset of `rebootCodes`; the runner stops after `maxRuns` runs.
   */
  readonly rerunCodes?: readonly number[];
  /** How many times the command may run in all when it keeps exiting with a rerun code. */
  readonly maxRuns?: number;
  /**
   * Environment variables the runner sets from secret references before running the command,
   * so secrets never appear in the plan: `{ REBAKE_JOIN_PASSWORD: "env:JOIN_PASSWORD" }`.
   */
  readonly secretEnv?: Readonly<Record<string, SecretRef>>;
}

export interface PlanStep {
  /** Stable id, e.g. `05-app-7zip`. */
  readonly id: string;
  readonly kind: StepKind;
  /** e.g. "Install 7zip 23.01". */
  readonly title: string;
  /** What the step puts into the image, for plans and diffs. */
  readonly installs?: { readonly name: string; readonly version: string };
  /** Why the step is in this place, e.g. "PVS: target-device software after the VDA". */
  readonly reason: string;
  /** The guest reboots after this step. */
  readonly reboot: "never" | "always" | "if-required";
  readonly inputs: readonly PlanInput[];
  /** Guest directory the inputs are uploaded to, one per step. */
  readonly uploadDir?: string;
  /** Commands run inside the guest, in order. Empty for steps the runner does itself. */
  readonly commands: readonly GuestCommand[];
  /** Hash of this step's own content. */
  readonly contentHash: string;
  /** Cumulative hash: this step's content and every step before it. The layer-cache key. */
  readonly hash: string;
}

export interface Plan {
  readonly recipe: { readonly name: string; readonly version: string; readonly file: string };
  readonly family: OsFamily;
  readonly target: "mcs" | "pvs";
  /** Content address of everything that determines the image. */
  readonly hash: string;
  readonly steps: readonly PlanStep[];
  /** Loud notices: unpinned inputs and the like. */
  readonly warnings: readonly string[];
}
