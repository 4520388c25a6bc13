/**
 * `rebake verify`: boots the captured vDisk under the hypervisor with a throwaway write overlay
 * (a qcow2 child of the VHDX, as a PVS target in standard mode writes to its cache, never to the
 * vDisk), waits for the guest agent, runs the recipe's checks and records the result. The
 * artifact is hashed afterwards: verify proves it is byte-identical to what the build wrote.
 */
import { readFile, rm } from "node:fs/promises";
import { makeOwnedDir } from "../util/owned-dir.ts";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { sha256File } from "../util/hash-file.ts";
import type { HypervisorDriver, VmHandle } from "../hypervisors/driver.ts";
import type { GuestChannel } from "../guest/channel.ts";
import type { BuildManifest, CheckResult, Verification } from "../manifest/model.ts";
import type { Check, Hardware } from "../recipe/model.ts";
import { DEFAULT_BOOT_TIMEOUT_MS } from "../runner/timeouts.ts";
import { vmSpecFor } from "../hypervisors/vm-spec.ts";
import { BuildError } from "../runner/errors.ts";
import { systemClock, type Clock, type EmitEvent } from "../runner/events.ts";
import { runSteps } from "../runner/run-steps.ts";
import type { Step } from "../runner/step.ts";
import { withStepTimeout } from "../runner/step-timeout.ts";
import { VmWatch } from "../runner/vm-watch.ts";
import { tail } from "../util/exec.ts";

/** Defaults of a check, as documented in the recipe model. */
const DEFAULT_CHECK_TIMEOUT_SECONDS = 1800;
const DEFAULT_SUCCESS_CODES: readonly number[] = [0];
/** Lines of a failed check's output kept in the report. */
const CHECK_DETAIL_LINES = 20;

export class VerifyError extends BuildError {}

export interface VerifyRequest {
  readonly manifest: BuildManifest;
  readonly manifestPath: string;
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
  artifact: string;
  expectedSha256: string;
  workDir: string;
  vm?: VmHandle;
  channel?: GuestChannel;
  /** The booted VM's watchdog, when the driver can observe it. */
  watch?: VmWatch;
  results: CheckResult[];
  artifactSha256?: string;
}

export async function verifyArtifact(request: VerifyRequest, deps: VerifyDeps): Promise<Verification> {
  const clock = deps.clock ?? systemClock;
  const started = clock();
  const output = request.manifest.outputs.find((o) => o.kind === "vhdx");
  if (!output || output.kind !== "vhdx") {
    throw new VerifyError(`${request.manifestPath} has no vDisk to boot (outputs: ${request.manifest.outputs.map((o) => o.kind).join(", ") || "none"}); verify boots PVS vDisks`);
  }
  const bootTimeoutMs = request.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
  const state: VerifyState = { artifact: resolve(dirname(request.manifestPath), output.path), expectedSha256: output.sha256, workDir: "", results: [] };

  const boot: Step<VerifyState> = {
    name: "verify-boot",
    title: "Boot the vDisk with a throwaway overlay",
    async run(ctx, s) {
      s.workDir = await makeOwnedDir(deps.tempRoot ?? tmpdir(), "rebake-verify-");
      ctx.cleanup.push(`remove ${s.workDir}`, () => rm(s.workDir, { recursive: true, force: true }));
      const vm = await deps.driver.createVm(
        vmSpecFor(`rebake-verify-${request.manifest.recipe.name}-${request.manifest.buildId}`, request.hardware, {
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
    title: "Power off and check the vDisk is unchanged",
    async run(_ctx, s) {
      await deps.driver.powerOff(s.vm!);
      s.artifactSha256 = await sha256File(s.artifact);
    },
  };

  await runSteps([boot, ...checks, shutdown], state, {
    signal: request.signal,
    emit: request.emit,
    clock,
    ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
  });
  // Hash after the overlay is gone too: nothing may have written to the vDisk.
  const finalSha256 = await sha256File(state.artifact);
  const unchanged = finalSha256 === state.expectedSha256;
  if (!unchanged) {
    state.results.push({ name: "artifact-unchanged", passed: false, durationMs: 0, detail: `the vDisk's sha256 changed from ${state.expectedSha256} to ${finalSha256}` });
  }
  return {
    passed: state.results.every((r) => r.passed),
    at: started.toISOString(),
    durationMs: clock().getTime() - started.getTime(),
    artifactSha256: finalSha256,
    checks: state.results,
  };
}
