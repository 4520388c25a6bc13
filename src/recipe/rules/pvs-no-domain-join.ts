import type { Rule } from "../document.ts";
import { DOMAIN_JOIN, matchingLine } from "./patterns.ts";
import { perRecipe } from "./report.ts";
import { readTextIfPresent, recipeScripts, scriptText, type ReadText } from "./scripts.ts";

const WHY = "a PVS master is captured without a domain join: the streamed target devices join or keep their own computer accounts after the vDisk is created";

/** PVS masters are captured unjoined: no target.domainJoin, no custom step or seal script that joins a domain. */
export function createPvsNoDomainJoin(read: ReadText = readTextIfPresent): Rule {
  return perRecipe(
    { id: "pvs-no-domain-join", severity: "error", description: "a PVS image is not joined to a domain before capture (target.domainJoin or a step that joins)" },
    function* (doc) {
      const recipe = doc.value;
      if (recipe.target.kind !== "pvs") return;
      if (recipe.target.domainJoin !== undefined) {
        yield { pointer: "/target/domainJoin", part: "key", message: WHY, got: recipe.target.domainJoin.domain, hint: "remove target.domainJoin; join the streamed machines instead (or use an MCS target)" };
      }
      for (const declared of recipeScripts(recipe)) {
        if (declared.phase === "verify") continue;
        const text = scriptText(declared, doc.path, read);
        const line = text && matchingLine(text.text, DOMAIN_JOIN);
        if (text === undefined || line === undefined) continue;
        yield { pointer: text.pointer, message: `${declared.label} joins a domain; ${WHY}`, got: line, hint: "remove the domain join from the step; join the streamed machines instead" };
      }
    },
  );
}

export const pvsNoDomainJoin = createPvsNoDomainJoin();
