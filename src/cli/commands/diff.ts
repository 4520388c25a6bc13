/**
 * `rebake diff <a.yaml> <b.yaml>` and `rebake diff <recipe> --base <git-ref>`: what changes in the
 * image between two recipes: components added, removed and bumped, settings changed, and the
 * first step the build must rerun (everything before it comes from the layer cache).
 */
import { resolve } from "node:path";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { formatReport, problemsAsJson } from "../../recipe/format-problems.ts";
import { diffPlans } from "../../recipe/diff.ts";
import { checkoutBase, RecipeNotInBaseError } from "../../recipe/git-base.ts";
import { planProject, type PlannedProject } from "../../recipe/plan-project.ts";
import { renderDiff } from "../../recipe/render-diff.ts";
import type { PlanFormat } from "../../recipe/render-plan.ts";
import { createExec, type Exec } from "../../util/exec.ts";
import { formatOf } from "./plan.ts";
import { parseCommandArgs } from "../args.ts";

export const HELP = `usage: rebake diff <old.yaml> <new.yaml> [--format text|markdown|json] [--json]
       rebake diff <recipe> --base <git-ref> [--format text|markdown|json] [--json]

Shows what a change does to the image: components (OS ISO, drivers, hypervisor tools, apps,
VDA, PVS target-device software) added, removed or bumped (old -> new), settings changed
(path: old -> new), and the first step that must rerun; the steps before it come from the
layer cache. With --base, the old recipe and the old apps/ are read from git at that ref.

options:
  --base REF  compare the recipe with itself at a git ref (e.g. origin/main)
  --format F  text (default), markdown (for PR comments) or json
  --json      same as --format json
  --help      show this help

exit codes: 0 compared, 1 a recipe is invalid (problems are printed) or git failed, 2 wrong usage
`;

export interface DiffDependencies {
  /** @default createExec() */
  readonly exec?: Exec;
}

export async function run(args: readonly string[], io: CliIo, deps: DiffDependencies = {}): Promise<number> {
  const parsed = parseCommandArgs(args, { format: { type: "string" }, base: { type: "string" } });
  if (parsed.values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const format = formatOf(parsed.values);
  const base = parsed.values.base;
  const files = parsed.positionals;
  if (typeof base === "string" ? files.length !== 1 : files.length !== 2) {
    throw new UsageError(`name two recipes, or one recipe and --base <git-ref>`);
  }
  const after = await planProject(files[files.length - 1] as string, { cwd: io.cwd });
  if (!after.ok) return printProblems(io, after, format);

  if (typeof base !== "string") {
    const before = await planProject(files[0] as string, { cwd: io.cwd });
    if (!before.ok) return printProblems(io, before, format);
    io.stdout(renderDiff(diffPlans(before, after), format));
    return EXIT.ok;
  }

  let checkout;
  try {
    checkout = await checkoutBase(resolve(io.cwd, files[0] as string), base, { exec: deps.exec ?? createExec() });
  } catch (error) {
    if (error instanceof RecipeNotInBaseError) {
      io.stdout(newRecipe(error, after.plan.steps.length, format));
      return EXIT.ok;
    }
    throw error;
  }
  try {
    const before = await planProject(checkout.recipePath, { cwd: checkout.root, hashFile: checkout.hashFile, displayName: checkout.displayName });
    if (!before.ok) {
      io.stderr(`rebake diff: the recipe at ${base} is invalid:\n`);
      return printProblems(io, before, format);
    }
    io.stdout(renderDiff(diffPlans(before, after), format));
    return EXIT.ok;
  } finally {
    await checkout.cleanup();
  }
}

function printProblems(io: CliIo, planned: PlannedProject, format: PlanFormat): number {
  io.stdout(format === "json" ? problemsAsJson(planned.problems, 1) : formatReport(planned.problems, 1));
  return EXIT.failed;
}

function newRecipe(error: RecipeNotInBaseError, steps: number, format: PlanFormat): string {
  if (format === "json") return `${JSON.stringify({ newRecipe: true, base: error.ref, file: error.path, totalSteps: steps }, null, 2)}\n`;
  const text = `${error.path} is new at this change (it does not exist at ${error.ref}): all ${steps} steps are built.`;
  return format === "markdown" ? `### Image diff: \`${error.path}\`\n\n${text}\n` : `${text}\n`;
}
