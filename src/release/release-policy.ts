/**
 * The release policy, declared once in Pulumi.yaml as project config (every stack shares it):
 * `stackOrder`, the order versions are promoted in, and `keepVersions`, how many versions each
 * stack keeps in its PVS stores (the pinned one and the ones published before it).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import type { Problem } from "../recipe/problem.ts";
import { formatProblem } from "../recipe/format-problems.ts";

export const PROJECT_FILE = "Pulumi.yaml";
/** @default when Pulumi.yaml declares no `stackOrder`. */
export const DEFAULT_STACK_ORDER: readonly string[] = ["dev", "test", "prod"];
/** @default when Pulumi.yaml declares no `keepVersions`: the pinned version and the one before it, so a rollback needs no copy. */
export const DEFAULT_KEEP_VERSIONS = 2;

export interface ReleasePolicy {
  readonly stackOrder: readonly string[];
  readonly keepVersions: number;
}

export class ReleasePolicyError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(`${PROJECT_FILE} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map(formatProblem).join("\n")}`);
    this.name = new.target.name;
  }
}

/** The policy from Pulumi.yaml text: `config.<key>.default` (Pulumi's project config form). */
export function parseReleasePolicy(text: string): ReleasePolicy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true });
  const problems: Problem[] = [];
  const problem = (node: Node | null | undefined, rule: string, message: string, got: unknown, hint: string) => {
    const at = node?.range ? lines.linePos(node.range[0]) : { line: 0, col: 0 };
    problems.push({ file: PROJECT_FILE, line: at.line, col: at.col, rule, severity: "error", message, got, hint });
  };
  const declared = (key: string) => {
    const entry = doc.getIn(["config", key], true) as Node | undefined;
    if (entry === undefined) return undefined;
    return isMap(entry) ? (entry.get("default", true) as Node | undefined) : entry;
  };

  let stackOrder = DEFAULT_STACK_ORDER;
  const order = declared("stackOrder");
  if (order !== undefined) {
    const names = isSeq(order) ? order.items.map((item) => (isScalar(item) && typeof item.value === "string" ? item.value : undefined)) : [];
    if (!isSeq(order) || names.length === 0 || names.some((n) => n === undefined || !/^[A-Za-z0-9_.-]+$/.test(n))) {
      problem(order, "release-stack-order", "config.stackOrder.default must list stack names, lowest first", order.toJSON(), "write default: [dev, test, prod]");
    } else if (new Set(names).size !== names.length) {
      problem(order, "release-stack-order", "config.stackOrder.default names a stack twice", order.toJSON(), "name each stack once");
    } else {
      stackOrder = names as string[];
    }
  }
  let keepVersions = DEFAULT_KEEP_VERSIONS;
  const keep = declared("keepVersions");
  if (keep !== undefined) {
    const value = isScalar(keep) ? keep.value : undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      problem(keep, "release-keep-versions", "config.keepVersions.default must be a whole number of at least 1 (the pinned version counts)", isScalar(keep) ? keep.value : keep.toJSON(), "write default: 2 to keep the previous version for rollbacks");
    } else {
      keepVersions = value;
    }
  }
  if (problems.length) throw new ReleasePolicyError(problems);
  return { stackOrder, keepVersions };
}

export async function loadReleasePolicy(root: string): Promise<ReleasePolicy> {
  let text: string;
  try {
    text = await readFile(join(root, PROJECT_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { stackOrder: DEFAULT_STACK_ORDER, keepVersions: DEFAULT_KEEP_VERSIONS };
    throw error;
  }
  return parseReleasePolicy(text);
}
