/**
 * `rebake verify <manifest>`: boots the build's vDisk (PVS) or snapshot (MCS) with a throwaway
 * overlay, runs the recipe's checks, prints pass or fail per check and records the result in the
 * manifest.
 * Exit 0 every check passed, 1 a check failed (or the artifact changed), 2 wrong usage, 130 interrupted.
 */
import { rm } from "node:fs/promises";
import { makeOwnedDir } from "../../util/owned-dir.ts";
import { tmpdir } from "node:os";
import { dirname, resolve } from "node:path";
import { parseCommandArgs } from "../args.ts";
import { ruleOf } from "../rule-of.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { createReporter } from "../progress/reporter.ts";
import { readManifest } from "../../manifest/write-manifest.ts";
import { formatReport, problemsAsJson } from "../../recipe/format-problems.ts";
import { loadProject } from "../../recipe/project.ts";
import { DEFAULT_DRIVER, createDriver } from "../wiring.ts";
import { BuildInterruptedError } from "../../runner/errors.ts";
import { StepsFailedError } from "../../runner/run-steps.ts";
import { recordVerification } from "../../manifest/record-verification.ts";
import { artifactOf, verifyArtifact } from "../../runner/verify-artifact.ts";

export const HELP = `usage: rebake verify <manifest> [--driver qemu] [--json]

Boots what a build made (the manifest's output) under the hypervisor with a throwaway write
overlay, waits for the guest agent, runs the recipe's checks (the recipe recorded in the
manifest) and reports pass or fail per check. The result is recorded in the manifest, which is
what publish asks for. PVS: the vDisk, proven byte-identical afterwards. MCS: the disk of the
snapshot the catalogs will get (QEMU: copied out of the golden VM's disk; vSphere: a linked clone
of the snapshot, deleted afterwards); the golden VM and its snapshot are never written.

options:
  --driver NAME  hypervisor driver (default: ${DEFAULT_DRIVER})
  --json         print the verification as JSON
  --help         show this help

exit codes: 0 every check passed, 1 a check failed, 2 wrong usage, 130 interrupted
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { driver: { type: "string" } });
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const [manifestArg, ...extra] = positionals;
  if (!manifestArg || extra.length > 0) throw new UsageError(`name exactly one manifest`);
  const manifestPath = resolve(io.cwd, manifestArg);
  const manifest = await readManifest(manifestPath);
  const project = await loadProject(manifest.recipe.file, { cwd: io.cwd });
  if (!project.recipe || project.problems.some((p) => p.severity === "error")) {
    io.stdout(values.json ? problemsAsJson(project.problems, 1) : formatReport(project.problems, 1));
    return EXIT.failed;
  }
  const recipe = project.recipe.value;
  const reporter = createReporter({ mode: values.json ? "json" : io.isTty ? "tty" : "plain", write: values.json ? () => undefined : io.stdout });
  const runtimeDir = await makeOwnedDir(tmpdir(), "rebake-vm-");
  const driverName = values.driver ?? DEFAULT_DRIVER;
  const driver = createDriver(driverName, { runtimeDir, env: io.env, log: (line) => reporter.emit({ type: "log", at: new Date().toISOString(), message: `${driverName}: ${line}` }) });
  try {
    const verification = await verifyArtifact(
      { artifact: artifactOf(manifest, manifestPath), checks: recipe.checks ?? [], recipeDir: dirname(manifest.recipe.file), signal: io.signal, emit: reporter.emit, ...(recipe.hardware ? { hardware: recipe.hardware } : {}), ...(recipe.os.stallTimeoutMinutes !== undefined ? { stallWindowMs: recipe.os.stallTimeoutMinutes * 60_000 } : {}) },
      { driver },
    );
    await recordVerification(manifestPath, manifest, verification);
    reporter.finish();
    if (values.json) {
      io.stdout(`${JSON.stringify(verification, null, 2)}\n`);
    } else {
      for (const check of verification.checks) {
        io.stdout(`${check.passed ? "pass" : "FAIL"}  ${check.name}${check.description ? `  ${check.description}` : ""}${check.detail ? `\n      ${check.detail.replaceAll("\n", "\n      ")}` : ""}\n`);
      }
      io.stdout(`${verification.passed ? "verified" : "verification FAILED"}: ${verification.checks.filter((c) => c.passed).length} of ${verification.checks.length} checks passed${verification.artifactSha256 ? `; vDisk sha256 ${verification.artifactSha256}` : ""}\n`);
    }
    return verification.passed ? EXIT.ok : EXIT.failed;
  } catch (error) {
    reporter.finish();
    const cause = error instanceof StepsFailedError ? error.error : (error as Error);
    io.stderr(`rebake verify: ${ruleOf(cause)}  ${cause.message}\n`);
    return cause instanceof BuildInterruptedError || io.signal.aborted ? EXIT.interrupted : EXIT.failed;
  } finally {
    await rm(runtimeDir, { recursive: true, force: true });
  }
}
