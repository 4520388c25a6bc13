import type { Rule } from "../document.ts";
import { matchingLine, SHUTDOWN } from "./patterns.ts";
import { perRecipe } from "./report.ts";
import { readTextIfPresent, recipeScripts, scriptText, type ReadText } from "./scripts.ts";

const WHY = "a PVS master is not shut down before capture: the runner captures right after a clean seal";

/** PVS masters are not shut down: no target.shutdown true, no custom step or seal script that powers off. */
export function createPvsNoShutdown(read: ReadText = readTextIfPresent): Rule {
  return perRecipe(
    { id: "pvs-no-shutdown", severity: "error", description: "a PVS image is not shut down before capture (target.shutdown or a step that powers off)" },
    function* (doc) {
      const recipe = doc.value;
      if (recipe.target.kind !== "pvs") return;
      if (recipe.target.shutdown === true) {
        yield { pointer: "/target/shutdown", message: WHY, got: true, hint: "remove target.shutdown (it defaults to false for PVS)" };
      }
      for (const declared of recipeScripts(recipe)) {
        if (declared.phase === "verify") continue;
        const text = scriptText(declared, doc.path, read);
        const line = text && matchingLine(text.text, SHUTDOWN);
        if (text === undefined || line === undefined) continue;
        yield { pointer: text.pointer, message: `${declared.label} shuts the machine down; ${WHY}`, got: line, hint: "remove the shutdown; a reboot (Restart-Computer, shutdown /r) is fine" };
      }
    },
  );
}

export const pvsNoShutdown = createPvsNoShutdown();
