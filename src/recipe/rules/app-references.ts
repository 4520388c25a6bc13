/** Shared wording for app references that resolve to nothing, and the graph over app files. */
import type { RuleContext, SourceDocument } from "../document.ts";
import type { App } from "../model.ts";
import { appKey, parseAppRef } from "../app-key.ts";
import { appGraph, type AppGraph } from "../resolve.ts";
import { suggest } from "../suggest.ts";

export type AppDocs = AppGraph<SourceDocument<App>>;

export function appDocs(context: RuleContext): AppDocs {
  return appGraph(context.apps, (doc) => doc.value);
}

/** What exists instead of a missing `name@version`, and how to fix the reference. */
export function explainMissing(ref: string, context: RuleContext, graph: AppDocs): { readonly known: string; readonly hint: string } {
  const { name } = parseAppRef(ref);
  const versions = graph.versionsOf(name);
  if (versions.length > 0) {
    const nearest = suggest(ref, versions.map((version) => appKey({ name, version }))) ?? appKey({ name, version: versions.at(-1) ?? "" });
    return {
      known: `${name} is defined in version${versions.length > 1 ? "s" : ""} ${versions.join(", ")}`,
      hint: `did you mean ${nearest}? Otherwise add an app definition for ${ref} under apps/`,
    };
  }
  const names = new Set(context.apps.map((doc) => doc.value.name));
  const nearName = suggest(name, [...names]);
  const nearRef = nearName === undefined ? undefined : appKey({ name: nearName, version: graph.versionsOf(nearName).at(-1) ?? "" });
  return {
    known: `no app named ${name} is defined`,
    hint: nearRef === undefined ? `add an app definition for ${ref} under apps/` : `did you mean ${nearRef}? Otherwise add an app definition for ${ref} under apps/`,
  };
}

/** True when the string is a well-formed `name@version` (the schema normally guarantees it). */
export function isAppRef(ref: string): boolean {
  try {
    parseAppRef(ref);
    return true;
  } catch {
    return false;
  }
}
