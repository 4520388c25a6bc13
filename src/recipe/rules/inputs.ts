/** Every file a recipe or app brings into the image, with where it is declared. */
import type { App, Recipe, Source } from "../model.ts";

export interface DeclaredInput {
  /** JSON pointer of the Source object. */
  readonly pointer: string;
  /** What the input is, for messages: "os.iso", "driver virtio-net". */
  readonly label: string;
  readonly source: Source;
}

export function recipeInputs(recipe: Recipe): DeclaredInput[] {
  const inputs: DeclaredInput[] = [{ pointer: "/os/iso", label: "os.iso", source: recipe.os.iso }];
  recipe.drivers?.forEach((driver, i) =>
    inputs.push({ pointer: `/drivers/${i}/source`, label: `driver ${driver.name} source`, source: driver.source }),
  );
  const tools = recipe.hypervisorTools;
  if (tools?.installer) inputs.push({ pointer: "/hypervisorTools/installer", label: `hypervisorTools.installer (${tools.kind})`, source: tools.installer });
  if (recipe.vda?.installer) inputs.push({ pointer: "/vda/installer", label: "vda.installer", source: recipe.vda.installer });
  if (recipe.target.kind === "pvs" && recipe.target.targetDevice?.installer) {
    inputs.push({ pointer: "/target/targetDevice/installer", label: "target.targetDevice.installer", source: recipe.target.targetDevice.installer });
  }
  return inputs;
}

export function appInputs(app: App): DeclaredInput[] {
  return [{ pointer: "/source", label: `app ${app.name}@${app.version} source`, source: app.source }];
}
