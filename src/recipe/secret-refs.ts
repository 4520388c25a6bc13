/**
 * Every secret reference a build of a recipe resolves, in one place: the build reads the
 * `pulumi:` keys among them from the stack once and checks them all before any VM exists, and a
 * step's log masks the values of its own. The plan carries the references of its commands (the
 * domain join password among them); the answer media read `os.productKey` from the recipe.
 */
import type { Recipe, SecretRef } from "./model.ts";
import type { Plan, PlanStep } from "./plan-model.ts";

/** The references a step's commands receive as environment variables, in order. */
export function stepSecretRefs(step: PlanStep): SecretRef[] {
  return step.commands.flatMap((command) => Object.values(command.secretEnv ?? {}));
}

/** Every reference the build of `recipe` as `plan` resolves, each once, in the order the build meets them. */
export function buildSecretRefs(recipe: Recipe, plan: Plan): SecretRef[] {
  const refs = [...(recipe.os.productKey !== undefined ? [recipe.os.productKey] : []), ...plan.steps.flatMap(stepSecretRefs)];
  return [...new Set(refs)];
}
