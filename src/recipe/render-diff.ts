/**
 * A plan diff for people (text, Markdown for a PR comment) and for tools (JSON).
 */
import type { PlanDiff, SettingChange } from "./diff.ts";
import type { StepKind } from "./plan-model.ts";
import { cell, type PlanFormat } from "./render-plan.ts";

const COMPONENT_LABEL: Readonly<Partial<Record<StepKind, string>>> = {
  "os-install": "OS ISO",
  driver: "driver",
  "hypervisor-tools": "hypervisor tools",
  app: "app",
  vda: "Citrix VDA",
  "target-device": "PVS target-device software",
};

/** Long values (inline scripts) are cut so a diff stays readable; the recipe has the rest. */
const MAX_VALUE_CHARS = 80;

export function renderDiff(diff: PlanDiff, format: PlanFormat): string {
  switch (format) {
    case "json":
      return `${JSON.stringify(diff, null, 2)}\n`;
    case "markdown":
      return renderMarkdown(diff);
    case "text":
      return renderText(diff);
  }
}

interface Row {
  readonly change: string;
  readonly what: string;
  readonly from: string;
  readonly to: string;
}

function componentRows(diff: PlanDiff, code: (text: string) => string): Row[] {
  const label = (kind: StepKind, name: string) => {
    const kindLabel = COMPONENT_LABEL[kind] ?? kind;
    return kind === "os-install" || kind === "vda" || kind === "target-device" ? kindLabel : `${kindLabel} ${code(name)}`;
  };
  return [
    ...diff.bumped.map((c) => ({ change: "bumped", what: label(c.kind, c.name), from: c.from, to: c.to })),
    ...diff.added.map((c) => ({ change: "added", what: label(c.kind, c.name), from: "", to: c.version })),
    ...diff.removed.map((c) => ({ change: "removed", what: label(c.kind, c.name), from: c.version, to: "" })),
    ...diff.changed.map((c) => ({ change: "changed", what: label(c.kind, c.name), from: c.version, to: `${c.version}, rebuilt: its checksum, install command or settings changed` })),
  ];
}

function rerunSentence(diff: PlanDiff): string {
  if (!diff.firstRerun) return `Nothing to rebuild: all ${diff.totalSteps} steps are reused from the layer cache.`;
  const n = diff.firstRerun.index + 1;
  const reused = diff.reusedSteps
    ? `steps 1-${diff.reusedSteps} are reused from the layer cache`
    : "no step can be reused from the layer cache";
  return `Rebuild from step ${n} of ${diff.totalSteps} (${diff.firstRerun.id}: ${diff.firstRerun.title}); ${reused}.`;
}

function titleOf(diff: PlanDiff): string {
  const from = `${diff.from.name} ${diff.from.version}`;
  const to = `${diff.to.name} ${diff.to.version}`;
  return from === to ? from : `${from} -> ${to}`;
}

function renderText(diff: PlanDiff): string {
  const lines = [`Image diff: ${titleOf(diff)}`, `from ${diff.from.file}  ${diff.from.hash}`, `to   ${diff.to.file}  ${diff.to.hash}`, ""];
  if (diff.identical) {
    lines.push("No change to the image: the hashes are equal.");
    return `${lines.join("\n")}\n`;
  }
  const rows = componentRows(diff, (name) => name);
  lines.push("Components:");
  if (!rows.length) lines.push("  (no component added, removed or bumped)");
  const width = Math.max(0, ...rows.map((r) => r.what.length));
  for (const row of rows) {
    lines.push(`  ${row.change.padEnd(7)}  ${row.what.padEnd(width)}  ${row.from || "-"} -> ${row.to || "-"}`);
  }
  lines.push("", "Settings:");
  if (!diff.settings.length) lines.push("  (no setting changed)");
  for (const change of diff.settings) lines.push(`  ${change.path}: ${showFrom(change)} -> ${showTo(change)}`);
  lines.push("", rerunSentence(diff));
  return `${lines.join("\n")}\n`;
}

function renderMarkdown(diff: PlanDiff): string {
  const lines = [`### Image diff: \`${diff.to.name}\` ${versions(diff)}`, ""];
  if (diff.identical) {
    lines.push(`No change to the image: hash \`${diff.to.hash.slice(0, 16)}\` is unchanged and every step is reused.`);
    return `${lines.join("\n")}\n`;
  }
  lines.push(`**${rerunSentence(diff)}**`, "");
  const rows = componentRows(diff, (name) => `\`${cell(name)}\``);
  if (rows.length) {
    lines.push("| Change | Component | Old | New |", "|--------|-----------|-----|-----|");
    for (const row of rows) lines.push(`| ${row.change} | ${row.what} | ${cell(row.from)} | ${cell(row.to)} |`);
  } else {
    lines.push("No component added, removed or bumped.");
  }
  lines.push("");
  if (diff.settings.length) {
    lines.push("| Setting | Old | New |", "|---------|-----|-----|");
    for (const change of diff.settings) lines.push(`| \`${cell(change.path)}\` | ${cell(showFrom(change))} | ${cell(showTo(change))} |`);
  } else {
    lines.push("No setting changed.");
  }
  lines.push("", `Image hash \`${diff.from.hash.slice(0, 16)}\` -> \`${diff.to.hash.slice(0, 16)}\``);
  return `${lines.join("\n")}\n`;
}

function versions(diff: PlanDiff): string {
  return diff.from.version === diff.to.version ? diff.to.version : `${diff.from.version} -> ${diff.to.version}`;
}

function showFrom(change: SettingChange): string {
  return "from" in change ? show(change.from) : "(none)";
}

function showTo(change: SettingChange): string {
  return "to" in change ? show(change.to) : "(none)";
}

function show(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const flat = text.replaceAll("\n", " ");
  return flat.length > MAX_VALUE_CHARS ? `${flat.slice(0, MAX_VALUE_CHARS - 3)}...` : flat;
}
