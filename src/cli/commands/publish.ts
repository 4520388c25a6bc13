/**
 * `rebake publish --stack <name>`: runs the Pulumi program for one stack through the Automation
 * API, after checking the stack file, the manifest and the release state, then appends the
 * publish to the audit log (releases/audit.jsonl).
 */
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { releaseContext, runRelease } from "../release-io.ts";
import { readManifest } from "../../manifest/write-manifest.ts";
import { checkGoldenImageArgs } from "../../publish/golden-image-args.ts";
import { checkPulumiCli } from "../../publish/pulumi-cli.ts";
import { automationEngine, type PulumiEngine } from "../../publish/pulumi-engine.ts";
import { checkPublishable, manifestPathOf, recordPublish, ReleaseError } from "../../publish/release.ts";
import { loadStack } from "../../stacks/load-stack.ts";
import { publishEnvironment, publishSecretRefs, stackSecretLookup } from "../wiring.ts";
import { createExec, type Exec } from "../../util/exec.ts";

export const HELP = `usage: rebake publish --stack <name> [--reason TEXT] [--preview] [--json]

Publishes the image version the stack pins (stacks/Pulumi.<name>.yaml): PVS vDisks into every
site's store (next to the versions the retention rule keeps) and registered with PVS, then the
devices assigned; or the MCS snapshot and catalog image update. Runs the Pulumi engine through
its Automation API; needs the Pulumi CLI. A publish is appended to releases/audit.jsonl (who,
when, commit, version, stack, what was published); commit it.

options:
  --stack NAME   the stack (dev, test, prod)
  --reason TEXT  why, recorded in the audit log
  --preview      show what would change (pulumi preview) without changing anything
  --json         print the result as JSON
  --help         show this help

exit codes: 0 published, 1 invalid stack / unverified or revoked version / failed update / no usable Pulumi CLI, 2 wrong usage
`;

export async function run(args: readonly string[], io: CliIo, exec: Exec = createExec(), engine: PulumiEngine = automationEngine): Promise<number> {
  const { values } = parseCommandArgs(args, { stack: { type: "string" }, reason: { type: "string" }, preview: { type: "boolean" } }, 0);
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  if (!values.stack) throw new UsageError(`name the stack with --stack`);
  const stackName = values.stack;
  const reason = values.reason?.trim();
  return runRelease("publish", io, async () => {
    const stack = await loadStack(io.cwd, stackName);
    const manifestPath = manifestPathOf(io.cwd, stack);
    const manifest = await readManifest(manifestPath);
    const revoked = await checkPublishable(io.cwd, stack);
    const problems = [...checkGoldenImageArgs({ stack, manifest, manifestDir: manifestPath }), ...(revoked ? [revoked] : [])];
    if (problems.length) throw new ReleaseError(problems.map((message) => ({ rule: "publish-check", message: `cannot publish to ${stack.stack}: ${message}` })));
    // Who and which commit first: a publish that cannot be recorded does not run.
    const context = values.preview ? undefined : await releaseContext(io, exec);
    await context?.actor();
    await checkPulumiCli(exec, io.env);
    // pulumi: secret references become environment variables the program's providers read.
    const refs = publishSecretRefs(stack);
    const pulumiSecret = await stackSecretLookup(refs, { stack: stack.stack, cwd: io.cwd, exec, signal: io.signal });
    const run = { stack: stack.stack, workDir: io.cwd, env: publishEnvironment(io.env, refs, pulumiSecret), signal: io.signal, onOutput: (text: string) => (values.json ? io.stderr(text) : io.stdout(text)) };
    if (!context) {
      const changes = await engine.preview(run);
      return values.json ? `${JSON.stringify({ stack: stack.stack, changes }, null, 2)}\n` : "";
    }
    const published = await engine.up(run);
    const entry = await recordPublish(context, stack, manifest, published, reason);
    return values.json
      ? `${JSON.stringify({ stack: stack.stack, version: manifest.recipe.version, published, audit: entry }, null, 2)}\n`
      : `published ${manifest.recipe.name} ${manifest.recipe.version} to ${stack.stack} (recorded in releases/audit.jsonl; commit it)\n`;
  });
}
