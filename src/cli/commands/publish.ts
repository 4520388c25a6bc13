/**
 * `rebake publish --stack <name>`: runs the Pulumi program for one stack through the Automation
 * API (LocalWorkspace), after checking the stack file and the manifest, then writes the publish
 * record beside the manifest.
 */
import { isAbsolute, join } from "node:path";
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { readManifest } from "../../manifest/write-manifest.ts";
import { checkGoldenImageArgs } from "../../publish/golden-image-args.ts";
import { writePublishRecord } from "../../publish/publish-record.ts";
import { publishEnvironment, publishSecretRefs, stackSecretLookup } from "../wiring.ts";
import { loadStack } from "../../stacks/load-stack.ts";
import { CommandNotFoundError, createExec, ExecError, type Exec } from "../../util/exec.ts";

export const HELP = `usage: rebake publish --stack <name> [--preview] [--json]

Publishes the image version the stack pins (stacks/Pulumi.<name>.yaml): PVS vDisks into every
site's store and registered with PVS, or the MCS snapshot and catalog image update. Runs the
Pulumi engine through its Automation API; needs the Pulumi CLI on PATH.

options:
  --stack NAME   the stack (dev, test, prod)
  --preview      show what would change (pulumi preview) without changing anything
  --json         print the result as JSON
  --help         show this help

exit codes: 0 published, 1 invalid stack / unverified version / failed update / no Pulumi CLI, 2 wrong usage
`;

export const PULUMI_MISSING = `the Pulumi CLI is not installed (no 'pulumi' on PATH); install it with
  npm install --global pulumi        (the pulumi npm package), or
  curl -fsSL https://get.pulumi.com | sh   (the official installer)
then run 'pulumi login' and try again
`;

/** Whether `pulumi` runs; the Automation API needs the CLI to drive the engine. */
export async function pulumiAvailable(exec: Exec, env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    await exec("pulumi", ["version"], { env: { PATH: env.PATH ?? "" } });
    return true;
  } catch (error) {
    if (error instanceof CommandNotFoundError) return false;
    if (error instanceof ExecError && /ENOENT|not found/.test(error.message)) return false;
    throw error;
  }
}

export async function run(args: readonly string[], io: CliIo, exec: Exec = createExec()): Promise<number> {
  const { values } = parseCommandArgs(args, { stack: { type: "string" }, preview: { type: "boolean" } }, 0);
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  if (!values.stack) throw new UsageError(`name the stack with --stack`);
  const stack = await loadStack(io.cwd, values.stack);
  const manifestPath = isAbsolute(stack.image.manifest) ? stack.image.manifest : join(io.cwd, stack.image.manifest);
  const manifest = await readManifest(manifestPath);
  const problems = checkGoldenImageArgs({ stack, manifest, manifestDir: manifestPath });
  if (problems.length) {
    io.stderr(`rebake publish: cannot publish to ${stack.stack}:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
    return EXIT.failed;
  }
  if (!(await pulumiAvailable(exec, io.env))) {
    io.stderr(`rebake publish: ${PULUMI_MISSING}`);
    return EXIT.failed;
  }
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
  const refs = publishSecretRefs(stack);
  const pulumiSecret = await stackSecretLookup(refs, { stack: stack.stack, cwd: io.cwd, exec, signal: io.signal });
  const workspace = await LocalWorkspace.createOrSelectStack({ stackName: stack.stack, workDir: io.cwd }, { envVars: publishEnvironment(io.env, refs, pulumiSecret) });
  const onOutput = (text: string) => (values.json ? io.stderr(text) : io.stdout(text));
  if (values.preview) {
    const preview = await workspace.preview({ onOutput, signal: io.signal } as Parameters<typeof workspace.preview>[0]);
    if (values.json) io.stdout(`${JSON.stringify({ stack: stack.stack, changes: preview.changeSummary }, null, 2)}\n`);
    return EXIT.ok;
  }
  const result = await workspace.up({ onOutput, signal: io.signal } as Parameters<typeof workspace.up>[0]);
  const published = (result.outputs.published?.value ?? {}) as Record<string, string>;
  const recordFile = await writePublishRecord(manifestPath, {
    stack: stack.stack,
    recipe: manifest.recipe.name,
    version: manifest.recipe.version,
    recipeHash: manifest.recipe.hash,
    publishedAt: new Date().toISOString(),
    published,
  });
  io.stdout(values.json ? `${JSON.stringify({ stack: stack.stack, version: manifest.recipe.version, published, record: recordFile }, null, 2)}\n` : `published ${manifest.recipe.name} ${manifest.recipe.version} to ${stack.stack} (record: ${recordFile})\n`);
  return EXIT.ok;
}
