import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Rule } from "../document.ts";
import { inputRule } from "./declared-inputs.ts";
import { resolveReference } from "./file-references.ts";

/** A local input that is not there yet: a warning, since an earlier stage may produce it (the demo test OS ISO). */
export function createInputMissing(exists: (absolutePath: string) => boolean = existsSync): Rule {
  return inputRule(
    {
      id: "input-missing",
      severity: "warning",
      description: "a path input names a file that exists (warning: an earlier stage may produce it)",
    },
    function* ({ pointer, label, source }, doc, context) {
      if (source.path === undefined) return;
      // A path that leaves the project is input-outside-project's, whether it exists or not.
      if (!source.outsideProject && !resolveReference(context, doc, source.path).inside) return;
      const absolute = resolve(dirname(doc.path), source.path);
      if (exists(absolute)) return;
      yield {
        pointer: `${pointer}/path`,
        message: `${label} ${source.path} does not exist (looked for ${absolute}); the build hashes and uploads it, so it must exist by then`,
        got: source.path,
        hint: "fix the path (it is relative to this YAML file) or produce the file before the build",
      };
    },
  );
}

export const inputMissing = createInputMissing();
