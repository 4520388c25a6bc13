/**
 * `rebake build <recipe>`: plan, fetch, install, run every step in the guest, capture, verify the
 * artifact (the build's last step, unless --no-verify) and write the manifest. Exit 0 built (and verified), 1 invalid
 * recipe / failed step / failed check, 2 wrong usage, 130 interrupted.
 */
import { rm } from "node:fs/promises";
import { makeOwnedDir } from "../../util/owned-dir.ts";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseCommandArgs } from "../args.ts";
import { ruleOf } from "../rule-of.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { createReporter } from "../progress/reporter.ts";
import { cacheDirs } from "../../cache/cache-dir.ts";
import { DownloadCache } from "../../cache/download-cache.ts";
import { LayerCache } from "../../cache/layer-cache.ts";
import { parseDuration, UnitError } from "../../cache/units.ts";
import { captureVhdx } from "../../capture/vhdx-capture.ts";
import { qemuImgFormat } from "../../capture/qemu-img-format.ts";
import { writeAnswerMedia } from "../../answers/media.ts";
import { generateAdminPassword } from "../../answers/password.ts";
import { formatReport, problemsAsJson } from "../../recipe/format-problems.ts";
import { planProject } from "../../recipe/plan-project.ts";
import { resolveSecret } from "../../recipe/secrets.ts";
import { build, type BuildResult } from "../../runner/build.ts";
import { buildSecretRefs } from "../../recipe/secret-refs.ts";
import { DEFAULT_DRIVER, checkBuildSecrets, checkDriverFlag, createDriver, loadConnection, planFileDigest } from "../wiring.ts";
import { BuildInterruptedError } from "../../runner/errors.ts";
import { ON_ERROR_POLICIES, type OnErrorPolicy } from "../../runner/on-error.ts";
import { StepsFailedError } from "../../runner/run-steps.ts";
import { toolVersions } from "../../runner/tool-versions.ts";
import { createExec } from "../../util/exec.ts";
import { formatDuration } from "../progress/format.ts";

export const HELP = `usage: rebake build <recipe> [options]

Builds a golden image from the recipe: installs the OS from its ISO with generated answer media,
runs every planned step inside the guest, captures the result (PVS: VHDX vDisk with sha256;
MCS: snapshot), writes <out>/manifest.json and verifies the artifact by booting it.
Each step's disk layer is cached by its hash: a rebuild reruns only the steps that changed.

options:
  --out DIR             where the artifact, manifest and logs go (default: out/<recipe name>)
  --no-cache            ignore the layer cache and build from the ISO
  --cache-dir DIR       cache location (default: $REBAKE_CACHE_DIR or .rebake/cache)
  --on-error POLICY     cleanup (default) or keep: after a failure keep the VM running
                        (and say how to reach it) until Ctrl-C
  --timeout DURATION    time limit for the whole build, e.g. 30m or 2h
  --stall-timeout DURATION
                        fail a wait on the guest (install, boot, shutdown) once nothing moved
                        (console, disk writes, CPU) for this long (default: the recipe's
                        os.stallTimeoutMinutes, else 10m)
  --stack NAME          build where stacks/Pulumi.<NAME>.yaml says (rebake:hypervisor: driver,
                        connection, guest channel); credentials come from the environment
                        variables or Pulumi secrets it names, and the recipe's pulumi:key
                        secrets from this stack's configuration
  --driver NAME         qemu, vsphere or xenorchestra (default: the stack's, else ${DEFAULT_DRIVER})
  --hypervisor-config FILE
                        a rebake:hypervisor block in its own YAML file; replaces the stack's
  --no-verify           skip booting the artifact and running the recipe's checks
  --json                print the build's events as JSON, one object per line
  --help                show this help

exit codes: 0 built and verified, 1 invalid recipe or failed step or check, 2 wrong usage, 130 interrupted
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
      out: { type: "string" },
      "no-cache": { type: "boolean" },
      "cache-dir": { type: "string" },
      "on-error": { type: "string" },
      timeout: { type: "string" },
      "stall-timeout": { type: "string" },
      driver: { type: "string" },
      stack: { type: "string" },
      "hypervisor-config": { type: "string" },
      "no-verify": { type: "boolean" },
    });
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const [recipePath, ...extra] = positionals;
  if (!recipePath || extra.length > 0) throw new UsageError(`name exactly one recipe`);
  const onError = (values["on-error"] ?? "cleanup") as OnErrorPolicy;
  if (!ON_ERROR_POLICIES.includes(onError)) throw new UsageError(`--on-error must be cleanup or keep, got: '${values["on-error"]}'`);
  checkDriverFlag(values.driver);
  const timeoutMs = durationFlag("--timeout", values.timeout);
  const stallFlagMs = durationFlag("--stall-timeout", values["stall-timeout"]);

  const planned = await planProject(recipePath, { cwd: io.cwd, hashFile: planFileDigest(io.cwd, io.env, { cacheDir: values["cache-dir"], remember: true }) });
  if (!planned.ok) {
    io.stdout(values.json ? problemsAsJson(planned.problems, 1) : formatReport(planned.problems, 1));
    return EXIT.failed;
  }
  const { plan, recipe } = planned;
  const stallWindowMs = stallFlagMs ?? (recipe.os.stallTimeoutMinutes !== undefined ? recipe.os.stallTimeoutMinutes * 60_000 : undefined);
  const recipeFile = resolve(io.cwd, recipePath);
  const outDir = resolve(io.cwd, values.out ?? join("out", plan.recipe.name));
  const dirs = cacheDirs(io.cwd, io.env, values["cache-dir"]);
  const reporter = createReporter({ mode: values.json ? "json" : io.isTty ? "tty" : "plain", write: io.stdout });
  const emit = reporter.emit;
  const exec = createExec();
  const recipeRefs = buildSecretRefs(recipe, plan);
  const flags = { ...(values.stack !== undefined ? { stack: values.stack } : {}), ...(values["hypervisor-config"] !== undefined ? { hypervisorConfig: values["hypervisor-config"] } : {}), ...(values.driver !== undefined ? { driver: values.driver } : {}) };
  const loaded = await loadConnection(flags, { cwd: io.cwd, exec, signal: io.signal, recipeRefs });
  // Every secret the build needs, the recipe's and the connection's, checked now and reported together, before any VM exists.
  const secretSources = checkBuildSecrets(recipeRefs, values.driver, { env: io.env, ...loaded });
  const runtimeDir = await makeOwnedDir(tmpdir(), "rebake-vm-");
  let driver: ReturnType<typeof createDriver>;
  try {
    // Credentials are resolved here: a missing one fails before any VM exists.
    driver = createDriver(values.driver, { runtimeDir, env: io.env, cacheDir: dirs.root, ...loaded, log: (line) => emit({ type: "log", at: new Date().toISOString(), message: `${driver?.name ?? "driver"}: ${line}` }) });
  } catch (error) {
    await rm(runtimeDir, { recursive: true, force: true });
    throw error;
  }
  const secrets = (ref: string) => resolveSecret(ref, secretSources);
  const started = Date.now();
  let releaseKept: (() => Promise<void>) | undefined;
  let result: BuildResult | undefined;
  try {
    result = await build(
      {
        plan: { ...plan, recipe: { ...plan.recipe, file: recipeFile } },
        recipe,
        outDir,
        signal: io.signal,
        emit,
        noCache: Boolean(values["no-cache"]),
        ...(values["no-verify"] ? {} : { verify: { checks: recipe.checks ?? [], recipeDir: dirname(recipeFile) } }),
        onError,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(stallWindowMs !== undefined ? { stallWindowMs } : {}),
        onKept: (access, release) => {
          releaseKept = release;
          io.stderr(`rebake build: the VM was kept for debugging (--on-error keep):\n${access.description}\n`);
        },
      },
      {
        driver,
        downloads: new DownloadCache(dirs.downloads),
        layers: new LayerCache(dirs.layers),
        answerMedia: async (r, { buildId, outPath, signal }) => {
          await writeAnswerMedia(r, {
            buildId,
            outPath,
            exec,
            signal,
            secrets,
            ...(r.os.family === "windows" ? { adminPassword: generateAdminPassword() } : {}),
          });
        },
        capture: (source, outPath, { signal, onProgress }) =>
          captureVhdx({ path: source.path, format: qemuImgFormat(source.format) }, outPath, { exec, signal, onProgress: (p) => onProgress(p.bytesDone, p.bytesTotal) }),
        toolVersions: () => toolVersions(exec),
        resolveSecret: secrets,
      },
    );
    const manifest = result.manifest;
    emit({ type: "build-end", at: new Date().toISOString(), status: "ok", durationMs: Date.now() - started });
    reporter.finish();
    if (!values.json) {
      const vhdx = manifest.outputs.find((o) => o.kind === "vhdx");
      const snapshot = manifest.outputs.find((o) => o.kind === "snapshot");
      io.stdout(
        `\nbuilt ${plan.recipe.name} ${plan.recipe.version} (build ${manifest.buildId}) in ${formatDuration(Date.now() - started)}\n` +
          (vhdx && vhdx.kind === "vhdx" ? `  vDisk:    ${join(outDir, vhdx.path)}\n  sha256:   ${vhdx.sha256}\n` : "") +
          (snapshot && snapshot.kind === "snapshot" ? `  snapshot: ${snapshot.ref}\n` : "") +
          `  manifest: ${result.manifestPath}\n` +
          (manifest.verification ? `  verified: ${manifest.verification.checks.length} checks passed\n` : ""),
      );
    }
    return EXIT.ok;
  } catch (error) {
    const cause = error instanceof StepsFailedError ? error.error : (error as Error);
    const interrupted = cause instanceof BuildInterruptedError || io.signal.aborted;
    emit({ type: "build-end", at: new Date().toISOString(), status: interrupted ? "interrupted" : "failed", durationMs: Date.now() - started, error: cause.message });
    reporter.finish();
    io.stderr(`rebake build: ${ruleOf(cause)}  ${cause.message}\n`);
    if (releaseKept) {
      // The driver's processes end with this one, so the VM lives exactly as long as we wait here.
      io.stderr("rebake build: the VM keeps running until you press Ctrl-C (or send SIGTERM); then it is removed\n");
      await new Promise<void>((resolve) => (io.signal.aborted ? resolve() : io.signal.addEventListener("abort", () => resolve(), { once: true })));
      await releaseKept();
    }
    return interrupted ? EXIT.interrupted : EXIT.failed;
  } finally {
    await rm(runtimeDir, { recursive: true, force: true });
  }
}

/** A DURATION flag in milliseconds, or undefined when absent; a bad value is a usage error. */
function durationFlag(flag: string, value: string | undefined): number | undefined {
  try {
    return value !== undefined ? parseDuration(value) : undefined;
  } catch (error) {
    if (error instanceof UnitError) throw new UsageError(`${flag}: ${error.message}`);
    throw error;
  }
}
