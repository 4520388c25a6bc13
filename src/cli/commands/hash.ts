/**
 * `rebake hash <recipe> [--json]`: the content address of the image a recipe describes, and the
 * cumulative hash of each step (the layer-cache key).
 */
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { planFileDigest } from "../wiring.ts";
import { formatReport, problemsAsJson } from "../../recipe/format-problems.ts";
import { planProject } from "../../recipe/plan-project.ts";
import type { Plan } from "../../recipe/plan-model.ts";
import { parseCommandArgs } from "../args.ts";

export const HELP = `usage: rebake hash <recipe> [--json]

Prints the recipe hash: a sha256 over the normalised recipe (defaults applied; description and
owners left out), the resolved app definitions and every input checksum. The same meaning gives
the same hash whatever the key order, comments or formatting. Then each step's cumulative hash,
the key of the build's layer cache: a change reruns the steps from the first changed hash on.

options:
  --json   print { recipe, hash, steps: [{ id, contentHash, hash }] }
  --help   show this help

exit codes: 0 hashed, 1 the recipe or its apps are invalid (problems are printed), 2 wrong usage
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {});
  if (parsed.values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const [recipe, ...extra] = parsed.positionals;
  if (!recipe || extra.length) throw new UsageError(`name exactly one recipe`);
  const planned = await planProject(recipe, { cwd: io.cwd, hashFile: planFileDigest(io.cwd, io.env, { remember: false }) });
  if (!planned.ok) {
    io.stdout(parsed.values.json ? problemsAsJson(planned.problems, 1) : formatReport(planned.problems, 1));
    return EXIT.failed;
  }
  io.stdout(parsed.values.json ? `${JSON.stringify(hashesOf(planned.plan), null, 2)}\n` : renderHashes(planned.plan));
  return EXIT.ok;
}

export function hashesOf(plan: Plan) {
  return {
    recipe: plan.recipe,
    hash: plan.hash,
    steps: plan.steps.map((step) => ({ id: step.id, contentHash: step.contentHash, hash: step.hash })),
  };
}

export function renderHashes(plan: Plan): string {
  const lines = [`${plan.hash}  ${plan.recipe.name} ${plan.recipe.version} (${plan.recipe.file})`];
  for (const step of plan.steps) lines.push(`${step.hash}  ${step.id}`);
  return `${lines.join("\n")}\n`;
}
