/**
 * A recipe file to a plan: load it with its project's apps, refuse when any error was found,
 * resolve the apps, plan. What `rebake plan`, `hash` and `diff` share.
 */
import { dirname } from "node:path";
import type { App, Recipe } from "./model.ts";
import type { Plan } from "./plan-model.ts";
import { createPlan, PlanError } from "./plan.ts";
import type { HashFile } from "./hash.ts";
import type { Problem } from "./problem.ts";
import { loadProject } from "./project.ts";
import { AppResolutionError, resolveApps } from "./resolve.ts";

export interface PlanProjectOptions {
  /** Relative paths are resolved here; problems name files relative to it. */
  readonly cwd: string;
  /** @default streaming sha256 of the file */
  readonly hashFile?: HashFile;
  /** The recipe as printed in the plan. @default the path as loaded */
  readonly displayName?: string;
}

export type PlannedProject =
  | { readonly ok: true; readonly plan: Plan; readonly recipe: Recipe; readonly problems: readonly Problem[] }
  | { readonly ok: false; readonly problems: readonly Problem[] };

export async function planProject(recipePath: string, options: PlanProjectOptions): Promise<PlannedProject> {
  const project = await loadProject(recipePath, { cwd: options.cwd });
  const recipe = project.recipe;
  if (!recipe || project.problems.some((p) => p.severity === "error")) return { ok: false, problems: project.problems };
  const appDirs = new Map<App, string>(project.apps.map((doc) => [doc.value, dirname(doc.path)]));
  const failed = (error: Error, rule: string): PlannedProject => ({
    ok: false,
    problems: [...project.problems, { file: recipe.file, line: 0, col: 0, rule, severity: "error", message: error.message }],
  });
  try {
    const apps = resolveApps(recipe.value, project.apps.map((doc) => doc.value));
    const plan = await createPlan(recipe.value, apps, {
      file: options.displayName ?? recipe.file,
      recipeDir: dirname(recipe.path),
      appDir: (app) => appDirs.get(app) ?? project.root,
      ...(options.hashFile ? { hashFile: options.hashFile } : {}),
    });
    return { ok: true, plan, recipe: recipe.value, problems: project.problems };
  } catch (error) {
    // The rules report these with positions first; reaching here means a rule let one through.
    if (error instanceof AppResolutionError) return failed(error, "app-resolution");
    if (error instanceof PlanError) return failed(error, "plan");
    throw error;
  }
}
