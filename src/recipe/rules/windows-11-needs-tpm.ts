import type { Recipe } from "../model.ts";
import { perRecipe } from "./report.ts";

/** "Windows 11", "Win11", "windows_11" in an edition name or ISO file name. */
const WINDOWS_11 = /\bwin(?:dows)?[\s_-]*11(?![0-9])/i;

/** Where the recipe says it installs Windows 11, if it does. */
function windows11Mention(recipe: Recipe): { readonly pointer: string; readonly text: string } | undefined {
  if (recipe.os.family !== "windows") return undefined;
  const candidates = [
    { pointer: "/os/edition", text: recipe.os.edition },
    { pointer: "/os/iso/path", text: recipe.os.iso.path },
    { pointer: "/os/iso/url", text: recipe.os.iso.url },
  ];
  for (const { pointer, text } of candidates) if (text !== undefined && WINDOWS_11.test(text)) return { pointer, text };
  return undefined;
}

/** The node to fix: the hardware setting that is wrong, the hardware block, or the Windows 11 mention. */
function blame(recipe: Recipe, mention: { readonly pointer: string }): { readonly pointer: string; readonly part: "key" | "value" } {
  const hardware = recipe.hardware;
  if (hardware === undefined) return { pointer: mention.pointer, part: "value" };
  if (hardware.tpm === false) return { pointer: "/hardware/tpm", part: "value" };
  if (hardware.tpm === undefined) return { pointer: "/hardware", part: "key" };
  return { pointer: "/hardware/firmware", part: "value" };
}

/** Windows 11 setup refuses hardware without TPM 2.0 and UEFI. */
export const windows11NeedsTpm = perRecipe(
  { id: "windows-11-needs-tpm", severity: "error", description: "a Windows 11 image has hardware.tpm true and UEFI firmware" },
  function* (doc) {
    const mention = windows11Mention(doc.value);
    const hardware = doc.value.hardware;
    const missing = [...(hardware?.tpm === true ? [] : ["tpm: true"]), ...(hardware?.firmware === "bios" ? ["firmware: uefi"] : [])];
    if (mention === undefined || missing.length === 0) return;
    yield {
      ...blame(doc.value, mention),
      message: `Windows 11 setup refuses a machine without TPM 2.0 and UEFI firmware, so the unattended install would stop at "This PC can't run Windows 11"`,
      got: { os: mention.text, tpm: hardware?.tpm ?? false, firmware: hardware?.firmware ?? "uefi" },
      hint: `set hardware.${missing.join(" and hardware.")} (secureBoot: true is recommended too)`,
    };
  },
);
