/**
 * What changed between two versions of an image, from their build manifests: the steps (OS,
 * updates, drivers, apps, VDA...) added, removed and changed, as text or Markdown.
 */
import { compareVersions } from "../distribute/site-versions.ts";
import type { BuildManifest } from "../manifest/model.ts";

export interface ComponentChange {
  readonly id: string;
  /** bumped / downgraded: the same component at a higher / lower version; changed: not comparable. */
  readonly kind: "added" | "removed" | "bumped" | "downgraded" | "changed" | "rebuilt";
  readonly from?: string;
  readonly to?: string;
}

/** Runner steps (fetch, capture) say nothing about the image's content. */
const RUNNER_STEP = /^(fetch|capture|install-os|answer)/;

export function changelog(older: BuildManifest, newer: BuildManifest): ComponentChange[] {
  const map = (m: BuildManifest) => new Map(m.steps.filter((s) => !RUNNER_STEP.test(s.id)).map((s) => [s.id, s] as const));
  const before = map(older);
  const after = map(newer);
  const changes: ComponentChange[] = [];
  for (const [id, step] of after) {
    const old = before.get(id);
    if (!old) changes.push({ id, kind: "added", to: step.title });
    else if (old.title !== step.title) changes.push({ id, kind: direction(old.title, step.title), from: old.title, to: step.title });
    else if (old.hash && step.hash && old.hash !== step.hash) changes.push({ id, kind: "rebuilt", from: old.title, to: step.title });
  }
  for (const [id, step] of before) if (!after.has(id)) changes.push({ id, kind: "removed", from: step.title });
  return changes;
}

/** A step title is `<component> <version>`; the direction is the versions', when the component is the same. */
export function direction(from: string, to: string): "bumped" | "downgraded" | "changed" {
  const split = (title: string) => /^(.*\S)\s+(\d+(?:\.\d+)*(?:[-+][\w.]+)?)$/.exec(title);
  const a = split(from);
  const b = split(to);
  if (!a || !b || a[1] !== b[1]) return "changed";
  return compareVersions(b[2]!, a[2]!) < 0 ? "downgraded" : "bumped";
}

export function renderChangelog(older: BuildManifest, newer: BuildManifest, format: "text" | "markdown"): string {
  const changes = changelog(older, newer);
  const downgrade = compareVersions(newer.recipe.version, older.recipe.version) < 0;
  const title = `${newer.recipe.name} ${older.recipe.version} -> ${newer.recipe.version}${downgrade ? " (downgrade to an older version)" : ""}`;
  const line = (c: ComponentChange) =>
    c.kind === "added" ? `added ${c.to}` : c.kind === "removed" ? `removed ${c.from}` : c.kind === "rebuilt" ? `rebuilt ${c.to} (its inputs changed)` : `${c.kind} ${c.from} -> ${c.to}`;
  if (format === "markdown") {
    const rows = changes.map((c) => `| ${c.kind} | \`${c.id}\` | ${c.from ?? ""} | ${c.to ?? ""} |`);
    return [`### ${title}`, "", ...(changes.length ? ["| change | step | from | to |", "| --- | --- | --- | --- |", ...rows] : ["No component changed."]), ""].join("\n");
  }
  return [`${title}:`, ...(changes.length ? changes.map((c) => `  ${line(c)}`) : ["  no component changed"]), ""].join("\n");
}
