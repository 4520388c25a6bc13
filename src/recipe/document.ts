/**
 * A YAML file loaded with its source positions, and the named rules that check loaded files.
 */
import type { App, Recipe } from "./model.ts";
import type { Problem, Severity } from "./problem.ts";

export interface Position {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
}

export type DocumentKind = "recipe" | "app";

export interface SourceDocument<T> {
  /** Path as shown to the user (relative to the working directory when possible). */
  readonly file: string;
  /** Absolute path. */
  readonly path: string;
  readonly kind: DocumentKind;
  /** The parsed value; valid against the schema when it reaches the rules. */
  readonly value: T;
  /**
   * Where the node at a JSON pointer starts (`/apps/2`, `/target/kind`); falls back to the
   * nearest existing parent. `part: "key"` points at the mapping key instead of the value.
   */
  locate(pointer: string, part?: "key" | "value"): Position;
  /**
   * Where `line`:`col` (1-based) of the string at a JSON pointer is in the file: exact for
   * literal block scalars (`run: |`) and one-line scalars, else where the value starts.
   */
  locateInString(pointer: string, line: number, col: number): Position;
}

export interface RuleContext {
  /**
   * The project the files belong to (the nearest directory holding apps/): inputs stay inside it.
   * @default the directory of each file
   */
  readonly root?: string;
  readonly recipes: readonly SourceDocument<Recipe>[];
  readonly apps: readonly SourceDocument<App>[];
}

/** A named check over every loaded file; reports every problem it finds, never just the first. */
export interface Rule {
  /** Stable id printed with each problem, e.g. `pvs-no-domain-join`. */
  readonly id: string;
  readonly severity: Severity;
  /** One line for `rebake rules` and the README. */
  readonly description: string;
  check(context: RuleContext): readonly Problem[];
}
