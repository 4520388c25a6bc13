import type { Rule, SourceDocument } from "../document.ts";
import type { App, Phase, Recipe } from "../model.ts";
import type { Problem } from "../problem.ts";
import { HYPERVISOR_TOOLS_INSTALL, matchingLine, TARGET_DEVICE_INSTALL, VDA_INSTALL, type Signature } from "./patterns.ts";
import { problemAt } from "./report.ts";
import { appCommands, readTextIfPresent, recipeScripts, scriptText, type ReadText } from "./scripts.ts";

/** The image layers in install order (seed 000). A custom step with `after: P` runs between P and the next phase. */
export const PHASE_ORDER: readonly Phase[] = ["os", "updates", "drivers", "tools", "apps", "vda", "target-device", "seal"];

const LAYERS = "OS -> updates + drivers + hypervisor tools -> apps -> VDA -> PVS target-device software -> seal";

/** Software with a dedicated recipe block, and the phases a custom step installing it may follow. */
interface Placement {
  readonly signature: Signature;
  readonly block: string;
  allowedAfter(recipe: Recipe): readonly Phase[];
}

const PLACEMENTS: readonly Placement[] = [
  {
    signature: VDA_INSTALL,
    block: "vda",
    // After the apps; for PVS also before the target-device software.
    allowedAfter: (recipe) => (recipe.target.kind === "pvs" ? ["vda"] : ["vda", "target-device"]),
  },
  {
    signature: TARGET_DEVICE_INSTALL,
    block: "target.targetDevice",
    // After the VDA when the image has one, otherwise after the apps; always before the seal.
    allowedAfter: (recipe) => (recipe.vda ? ["vda", "target-device"] : ["apps", "vda", "target-device"]),
  },
  {
    signature: HYPERVISOR_TOOLS_INSTALL,
    block: "hypervisorTools",
    // With the drivers, before the apps.
    allowedAfter: () => ["os", "updates", "drivers", "tools"],
  },
];

function recipeViolations(rule: Rule, doc: SourceDocument<Recipe>, read: ReadText): Problem[] {
  const recipe = doc.value;
  return recipeScripts(recipe).flatMap((declared) => {
    if (declared.phase === "verify") return [];
    const text = scriptText(declared, doc.path, read);
    if (text === undefined) return [];
    const placed = declared.phase;
    return PLACEMENTS.flatMap((placement) => {
      const line = matchingLine(text.text, placement.signature);
      const allowed = placement.allowedAfter(recipe);
      if (line === undefined || allowed.includes(placed)) return [];
      const where = placed === "seal" && declared.pointer.startsWith("/seal") ? "in the seal" : `after: ${placed}`;
      return [problemAt(rule, doc, {
        pointer: text.pointer,
        message: `${declared.label} (${where}) installs ${placement.signature.what} out of order; the image is layered ${LAYERS}`,
        got: line,
        hint: `declare it in the recipe's ${placement.block} block, which the plan puts in its place, or move the step to after: ${allowed.join(" | ")}`,
      })];
    });
  });
}

function appViolations(rule: Rule, doc: SourceDocument<App>): Problem[] {
  const app = doc.value;
  const sourceName = app.source.url ?? app.source.path;
  const texts = [
    ...appCommands(app).map((command) => ({ pointer: command.pointer, text: command.text })),
    ...(sourceName === undefined ? [] : [{ pointer: app.source.url !== undefined ? "/source/url" : "/source/path", text: sourceName }]),
  ];
  for (const placement of PLACEMENTS) {
    for (const { pointer, text } of texts) {
      const line = matchingLine(text, placement.signature);
      if (line === undefined) continue;
      return [problemAt(rule, doc, {
        pointer,
        message: `app ${app.name}@${app.version} installs ${placement.signature.what}, which would then be installed among the apps; the image is layered ${LAYERS}`,
        got: line,
        hint: `remove this app definition and use the recipe's ${placement.block} block, which the plan puts in its place`,
      })];
    }
  }
  return [];
}

/** Software that has a fixed layer is not installed from a custom step or an app in the wrong place. */
export function createLayerOrder(read: ReadText = readTextIfPresent): Rule {
  const rule: Rule = {
    id: "layer-order",
    severity: "error",
    description: `the image is layered ${LAYERS}; custom steps and apps do not install the VDA, the target-device software or hypervisor tools out of that order`,
    check: (context) => [
      ...context.recipes.flatMap((doc) => recipeViolations(rule, doc, read)),
      ...context.apps.flatMap((doc) => appViolations(rule, doc)),
    ],
  };
  return rule;
}

export const layerOrder = createLayerOrder();
