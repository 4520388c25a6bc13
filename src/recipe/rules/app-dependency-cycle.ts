import type { Rule, SourceDocument } from "../document.ts";
import type { App } from "../model.ts";
import { appKey } from "../app-key.ts";
import { groupBy } from "./group.ts";
import { problemAt } from "./report.ts";

/** Every dependency loop among the app definitions, each as [a, b, ..., a] starting at its smallest key. */
export function dependencyCycles(apps: readonly SourceDocument<App>[]): string[][] {
  const byKey = groupBy(apps, (doc) => appKey(doc.value));
  const edges = (key: string): string[] => [...new Set((byKey.get(key) ?? []).flatMap((doc) => doc.value.dependsOn ?? []))];
  const cycles = new Map<string, string[]>();
  const finished = new Set<string>();
  const path: string[] = [];

  const visit = (key: string): void => {
    const onPath = path.indexOf(key);
    if (onPath >= 0) {
      const loop = path.slice(onPath);
      const start = loop.indexOf([...loop].sort()[0] ?? key);
      const rotated = [...loop.slice(start), ...loop.slice(0, start)];
      cycles.set(rotated.join(" "), [...rotated, rotated[0] ?? key]);
      return;
    }
    if (finished.has(key) || !byKey.has(key)) return;
    path.push(key);
    for (const next of edges(key)) visit(next);
    path.pop();
    finished.add(key);
  };

  for (const key of byKey.keys()) visit(key);
  return [...cycles.values()];
}

/** App dependencies form no loop: a loop has no install order. */
export const appDependencyCycle: Rule = {
  id: "app-dependency-cycle",
  severity: "error",
  description: "app dependsOn entries form no cycle",
  check(context) {
    return dependencyCycles(context.apps).flatMap((cycle) => {
      const [from, to] = cycle;
      const doc = context.apps.find((candidate) => appKey(candidate.value) === from && candidate.value.dependsOn?.includes(to ?? ""));
      if (doc === undefined || to === undefined) return [];
      const path = cycle.join(" -> ");
      return [problemAt(appDependencyCycle, doc, {
        pointer: `/dependsOn/${doc.value.dependsOn?.indexOf(to) ?? 0}`,
        message: `app dependencies form a cycle ${path}; dependencies are installed first, so a cycle has no install order`,
        got: path,
        hint: `remove one dependsOn entry of the cycle, e.g. ${to} from ${from}`,
      })];
    });
  },
};
