/**
 * A plan as people and programs read it: a numbered text table for terminals, Markdown for PR
 * comments, JSON for tools. Reboots are marked; unpinned inputs are shouted before the steps.
 */
import type { Plan, PlanStep } from "./plan-model.ts";

export type PlanFormat = "text" | "markdown" | "json";
export const PLAN_FORMATS: readonly PlanFormat[] = ["text", "markdown", "json"];

const REBOOT_MARK: Readonly<Record<PlanStep["reboot"], string>> = {
  never: "",
  always: "reboot",
  "if-required": "reboot if asked",
};

export function renderPlan(plan: Plan, format: PlanFormat): string {
  switch (format) {
    case "json":
      return `${JSON.stringify(plan, null, 2)}\n`;
    case "markdown":
      return renderMarkdown(plan);
    case "text":
      return renderText(plan);
  }
}

function heading(plan: Plan): string {
  return `${plan.recipe.name} ${plan.recipe.version} (${plan.family}, ${plan.target.toUpperCase()}): ${plan.steps.length} steps`;
}

function renderText(plan: Plan): string {
  const lines = [`Plan for ${heading(plan)}`, `recipe: ${plan.recipe.file}`, `hash:   ${plan.hash}`, ""];
  for (const warning of plan.warnings) lines.push(`!! WARNING: ${warning}`);
  if (plan.warnings.length) lines.push("");
  const rows = plan.steps.map((step, i) => ({ n: String(i + 1), step }));
  const w = {
    n: Math.max(1, ...rows.map((r) => r.n.length)),
    kind: Math.max(4, ...plan.steps.map((s) => s.kind.length)),
    title: Math.max(4, ...plan.steps.map((s) => s.title.length)),
  };
  lines.push(`${"#".padStart(w.n)}  ${"kind".padEnd(w.kind)}  ${"step".padEnd(w.title)}  reboot`);
  for (const { n, step } of rows) {
    lines.push(`${n.padStart(w.n)}  ${step.kind.padEnd(w.kind)}  ${step.title.padEnd(w.title)}  ${REBOOT_MARK[step.reboot]}`.trimEnd());
    const indent = " ".repeat(w.n + 2);
    lines.push(`${indent}id ${step.id}  why: ${step.reason}`);
  }
  return `${lines.join("\n")}\n`;
}

function renderMarkdown(plan: Plan): string {
  const lines = [
    `### Plan: \`${plan.recipe.name}\` ${plan.recipe.version} (${plan.family}, ${plan.target.toUpperCase()})`,
    "",
    `Recipe \`${plan.recipe.file}\`, ${plan.steps.length} steps, hash \`${plan.hash.slice(0, 16)}\``,
    "",
  ];
  if (plan.warnings.length) {
    lines.push("> [!WARNING]", `> **${plan.warnings.length} warning${plan.warnings.length === 1 ? "" : "s"}**`);
    for (const warning of plan.warnings) lines.push(`> - ${cell(warning)}`);
    lines.push("");
  }
  lines.push("| # | Step | Installs | Reboot | Why here |", "|--:|------|----------|--------|----------|");
  plan.steps.forEach((step, i) => {
    const installs = step.installs ? `${cell(step.installs.name)} ${cell(step.installs.version)}` : "";
    lines.push(`| ${i + 1} | ${cell(step.title)}<br>\`${step.id}\` | ${installs} | ${REBOOT_MARK[step.reboot]} | ${cell(step.reason)} |`);
  });
  return `${lines.join("\n")}\n`;
}

/** Text safe inside a Markdown table cell. */
export function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}
