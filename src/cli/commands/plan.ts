/**
 * `rebake plan <recipe> [--format text|markdown|json] [--json]`: the ordered steps a recipe turns
 * into, what each installs, why it sits where it does, and where the guest reboots.
 */
import { parseCommandArgs } from "../args.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";
import { planFileDigest } from "../wiring.ts";
import { formatReport, problemsAsJson } from "../../recipe/format-problems.ts";
import { planProject } from "../../recipe/plan-project.ts";
import { PLAN_FORMATS, renderPlan, type PlanFormat } from "../../recipe/render-plan.ts";

export const HELP = `usage: rebake plan <recipe> [--format text|markdown|json] [--json]

Prints the ordered steps of a recipe: OS, updates, drivers, hypervisor tools, apps, VDA,
PVS target-device software or MCS domain join, seal, MCS shutdown. Each step shows what it
installs, why it is in that place, and whether the guest reboots after it.
Unpinned inputs are listed as warnings before the steps.

options:
  --format F  text (default), markdown (for PR comments) or json
  --json      same as --format json
  --help      show this help

exit codes: 0 planned, 1 the recipe or its apps are invalid (problems are printed), 2 wrong usage
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, { format: { type: "string" } });
  if (parsed.values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const [recipe, ...extra] = parsed.positionals;
  if (!recipe || extra.length) throw new UsageError(`name exactly one recipe`);
  const format = formatOf(parsed.values);
  const planned = await planProject(recipe, { cwd: io.cwd, hashFile: planFileDigest(io.cwd, io.env, { remember: false }) });
  if (!planned.ok) {
    io.stdout(format === "json" ? problemsAsJson(planned.problems, 1) : formatReport(planned.problems, 1));
    return EXIT.failed;
  }
  io.stdout(renderPlan(planned.plan, format));
  return EXIT.ok;
}

/** --json wins over --format; an unknown format is a usage error. */
export function formatOf(values: { readonly json?: boolean | undefined; readonly format?: string | undefined }): PlanFormat {
  if (values.json) return "json";
  const format = values.format ?? "text";
  if (typeof format !== "string" || !PLAN_FORMATS.includes(format as PlanFormat)) {
    throw new UsageError(`--format must be one of ${PLAN_FORMATS.join(", ")}, got: '${String(format)}'`);
  }
  return format as PlanFormat;
}
