import { basename, extname } from "node:path";
import { perRecipe } from "./report.ts";

const YAML_EXTENSIONS: readonly string[] = [".yaml", ".yml"];

/** A recipe file is named after its recipe, so `rebake plan recipes/<name>.yaml` finds it by name. */
export const recipeFileName = perRecipe(
  { id: "recipe-file-name", severity: "warning", description: "a recipe file is named <metadata.name>.yaml" },
  function* (doc) {
    const name = doc.value.metadata.name;
    const file = basename(doc.path);
    const extension = extname(file);
    if (YAML_EXTENSIONS.includes(extension) && basename(file, extension) === name) return;
    yield {
      pointer: "/metadata/name",
      message: `recipe ${name} is in ${file}; a recipe file is named after its metadata.name so people and CI find it by name`,
      got: file,
      hint: `rename the file to ${name}.yaml or change metadata.name`,
    };
  },
);
