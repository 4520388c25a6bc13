/**
 * Verification, the build's last step and `rebake verify`: boots the captured artifact under the hypervisor with a throwaway write overlay,
 * waits for the guest agent, runs the recipe's checks and records the result.
 * PVS: a qcow2 child of the VHDX (as a PVS target in standard mode writes to its cache, never to
 * the vDisk); the vDisk is hashed afterwards, proving it byte-identical to what the build wrote.
 * MCS: the disk of the snapshot the catalogs will get (driver.snapshotLayer: on QEMU a copy out of
 * the golden VM's qcow2, on vSphere a linked clone of the snapshot, deleted afterwards).
 */
import { readFile, rm } from "node:fs/promises";
import { makeOwnedDir } from "../util/owned-dir.ts";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { sha256File } from "../util/hash-file.ts";
import type { HypervisorDriver, VmHandle } from "../hypervisors/driver.ts";
import type { GuestChannel } from "../guest/channel.ts";
import type { BuildManifest, CheckResult, ManifestOutput, Verification } from "../manifest/model.ts";
import type { Check, Hardware } from "../recipe/model.ts";
import { DEFAULT_BOOT_TIMEOUT_MS } from "./timeouts.ts";
import { vmSpecFor } from "../hypervisors/vm-spec.ts";
import { BuildError } from "./errors.ts";
import { systemClock, type Clock, type EmitEvent } from "./events.ts";
import { runSteps } from "./run-steps.ts";
import type { Step } from "./step.ts";
import { withStepTimeout } from "./step-timeout.ts";
import { VmWatch } from "./vm-watch.ts";
import { tail } from "../util/exec.ts";

/** Defaults of a check, as documented in the recipe model. */
const DEFAULT_CHECK_TIMEOUT_SECONDS = 1800;
const DEFAULT_SUCCESS_CODES: readonly number[] = [0];
/** Lines of a failed check's output kept in the report. */
const CHECK_DETAIL_LINES = 20;

export class VerifyError extends BuildError {}

/** What a build produced: enough to find and name the artifact to boot. */
export interface BuiltArtifact {
  readonly outputs: readonly ManifestOutput[];
  /** Output paths are relative to this directory (the manifest's). */
  readonly dir: string;
  readonly recipeName: string;
  readonly buildId: string;
  /** Where the outputs are described, for messages: the manifest file, or the build. */
  readonly source: string;
}

/** The artifact a manifest describes. */
export function artifactOf(manifest: BuildManifest, manifestPath: string): BuiltArtifact {
  return { outputs: manifest.outputs, dir: dirname(manifestPath), recipeName: manifest.recipe.name, buildId: manifest.buildId, source: manifestPath };
}

export interface VerifyRequest {
  readonly artifact: BuiltArtifact;
  readonly checks: readonly Check[];
  /** The recipe's hardware (firmware decides how the disk boots). */
  readonly hardware?: Hardware;
  /** Check scripts given as `file` are relative to this directory (the recipe's). */
  readonly recipeDir: string;
  readonly signal: AbortSignal;
  readonly emit: EmitEvent;
  /** @default DEFAULT_BOOT_TIMEOUT_MS */
  readonly bootTimeoutMs?: number;
  /** How long the boot may see nothing move before it fails as stalled. @default DEFAULT_STALL_WINDOW_MS */
  readonly stallWindowMs?: number;
  readonly timeoutMs?: number;
}

export interface VerifyDeps {
  readonly driver: HypervisorDriver;
  readonly clock?: Clock;
  /** Parent of the overlay's temp dir. @default os.tmpdir() */
  readonly tempRoot?: string;
}

interface VerifyState {
  /** The base the overlay is a child of; for MCS, resolved in the boot step. */
  artifact: string;
  /** PVS: the vDisk's sha256 at capture; MCS: none (the snapshot is never opened for writing). */
  expectedSha256?: string;
  workDir: string;
  vm?: VmHandle;
  channel?: GuestChannel;
  /** The booted VM's watchdog, when the driver can observe it. */
  watch?: VmWatch;
  results: CheckResult[];
}

/** Why this driver cannot boot what the build produced, or undefined when it can. */
export function whyUnbootable(artifact: BuiltArtifact, driver: HypervisorDriver): string | undefined {
  const kinds = artifact.outputs.map((o) => o.kind);
  if (kinds.includes("vhdx")) return undefined;
  if (!kinds.includes("snapshot")) return `${artifact.source} has no vDisk or snapshot to boot (outputs: ${kinds.join(", ") || "none"})`;
  if (!driver.snapshotLayer) return `the ${driver.name} driver cannot boot an MCS snapshot; verify ${artifact.source} with the driver that built it (qemu or vsphere)`;
  return undefined;
}

export async function verifyArtifact(request: VerifyRequest, deps: VerifyDeps): Promise<Verification> {
  const clock = deps.clock ?? systemClock;
  const started = clock();
  const { artifact } = request;
  const unbootable = whyUnbootable(artifact, deps.driver);
  if (unbootable) throw new VerifyError(unbootable);
  const vhdx = artifact.outputs.find((o) => o.kind === "vhdx");
  const snapshot = artifact.outputs.find((o) => o.kind === "snapshot");
  const snapshotLayer = deps.driver.snapshotLayer?.bind(deps.driver);
  const bootTimeoutMs = request.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
  const state: VerifyState = vhdx?.kind === "vhdx"
    ? { artifact: resolve(artifact.dir, vhdx.path), expectedSha256: vhdx.sha256, workDir: "", results: [] }
    : { artifact: "", workDir: "", results: [] };

  const boot: Step<VerifyState> = {
    name: "verify-boot",
    title: vhdx ? "Boot the vDisk with a throwaway overlay" : "Boot the snapshot's disk with a throwaway overlay",
    async run(ctx, s) {
      s.workDir = await makeOwnedDir(deps.tempRoot ?? tmpdir(), "rebake-verify-");
      ctx.cleanup.push(`remove ${s.workDir}`, () => rm(s.workDir, { recursive: true, force: true }));
      if (snapshot?.kind === "snapshot" && !vhdx) s.artifact = await snapshotLayer!(snapshot, s.workDir, ctx.signal);
      const vm = await deps.driver.createVm(
        vmSpecFor(`rebake-verify-${artifact.recipeName}-${artifact.buildId}`, request.hardware, {
          path: join(s.workDir, "overlay.qcow2"),
          baseLayer: s.artifact,
        }),
        ctx.signal,
      );
      s.vm = vm;
      ctx.cleanup.push(`destroy VM ${vm.name}`, () => deps.driver.destroy(vm));
      const channel = deps.driver.guest(vm);
      s.channel = channel;
      ctx.cleanup.push("close the guest channel", () => channel.close());
      await deps.driver.powerOn(vm);
      const monitor = deps.driver.monitor?.(vm);
      if (monitor) {
        s.watch = new VmWatch({
          monitor,
          ...(request.stallWindowMs !== undefined ? { stallWindowMs: request.stallWindowMs } : {}),
          onLine: (line) => ctx.emit({ type: "console", at: clock().toISOString(), step: ctx.stepId, line }),
        });
      }
      const boot = (outer: AbortSignal) =>
        withStepTimeout(ctx.stepId, bootTimeoutMs, "booting the vDisk: the guest agent did not answer", outer, (signal) => channel.waitReady(bootTimeoutMs, signal));
      await (s.watch ? s.watch.guard(ctx.stepId, ctx.signal, boot, { waitingFor: "the verify boot until the guest agent answers" }) : boot(ctx.signal));
    },
  };

  const checks: Step<VerifyState>[] = request.checks.map((check) => ({
    name: `check-${check.name}`,
    title: check.description ?? `Check ${check.name}`,
    async run(ctx, s) {
      const script = check.run ?? (await readFile(resolve(request.recipeDir, check.file ?? ""), "utf8"));
      const timeoutMs = (check.timeoutSeconds ?? DEFAULT_CHECK_TIMEOUT_SECONDS) * 1000;
      const began = clock().getTime();
      const base = { name: check.name, ...(check.description ? { description: check.description } : {}) };
      try {
        const exec = (outer: AbortSignal) =>
          withStepTimeout(ctx.stepId, timeoutMs, `check ${check.name} did not finish`, outer, (signal) => s.channel!.exec(script, { shell: check.shell, timeoutMs, signal }));
        // A VM that dies during a check fails the verification at once, not at the check's time limit.
        const result = await (s.watch ? s.watch.guard(ctx.stepId, ctx.signal, exec) : exec(ctx.signal));
        const passed = (check.successCodes ?? DEFAULT_SUCCESS_CODES).includes(result.exitCode);
        const detail = passed ? undefined : tail(result.stdout + result.stderr, CHECK_DETAIL_LINES);
        s.results.push({ ...base, passed, exitCode: result.exitCode, durationMs: clock().getTime() - began, ...(detail ? { detail } : {}) });
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        // A check that times out fails; the others still run.
        s.results.push({ ...base, passed: false, durationMs: clock().getTime() - began, detail: (error as Error).message });
      }
      ctx.emit({ type: "log", at: clock().toISOString(), step: ctx.stepId, message: s.results.at(-1)!.passed ? "pass" : "FAIL" });
    },
  }));

  const shutdown: Step<VerifyState> = {
    name: "verify-shutdown",
    title: vhdx ? "Power off and check the vDisk is unchanged" : "Power off",
    async run(_ctx, s) {
      await deps.driver.powerOff(s.vm!);
    },
  };

  await runSteps([boot, ...checks, shutdown], state, {
    signal: request.signal,
    emit: request.emit,
    clock,
    ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
  });
  // Hash after the overlay is gone too: nothing may have written to the vDisk.
  const finalSha256 = state.expectedSha256 === undefined ? undefined : await sha256File(state.artifact);
  if (finalSha256 !== state.expectedSha256) {
    state.results.push({ name: "artifact-unchanged", passed: false, durationMs: 0, detail: `the vDisk's sha256 changed from ${state.expectedSha256} to ${finalSha256}` });
  }
  return {
    passed: state.results.every((r) => r.passed),
    at: started.toISOString(),
    durationMs: clock().getTime() - started.getTime(),
    ...(finalSha256 ? { artifactSha256: finalSha256 } : {}),
    checks: state.results,
  };
}
