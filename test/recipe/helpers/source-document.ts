/**
 * SourceDocuments for rule tests, built straight from YAML text with the `yaml` package so rule
 * tests do not depend on the real loader. `locate` follows the SourceDocument contract: the node
 * at a JSON pointer, falling back to the nearest existing parent.
 */
import { readFile } from "node:fs/promises";
import { basename, relative } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Node } from "yaml";
import type { DocumentKind, Position, RuleContext, SourceDocument } from "../../../src/recipe/document.ts";
import { compareProblems, type Problem } from "../../../src/recipe/problem.ts";
import { rules } from "../../../src/recipe/rules/index.ts";
import { offsetInScalar } from "../../../src/recipe/scalar-position.ts";
import type { App, Recipe } from "../../../src/recipe/model.ts";

function segments(pointer: string): string[] {
  return pointer === "" ? [] : pointer.slice(1).split("/").map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

export function sourceDocument<T>(text: string, path: string, kind: DocumentKind, file = path): SourceDocument<T> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  if (document.errors.length > 0) throw new Error(`test YAML ${file} does not parse: ${document.errors[0]?.message}`);
  const at = (offset: number | undefined): Position => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { line, col };
  };
  return {
    file,
    path,
    kind,
    value: document.toJS() as T,
    locate(pointer, part = "value") {
      let node: unknown = document.contents;
      let key: Node | undefined;
      for (const segment of segments(pointer)) {
        if (isMap(node)) {
          const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
          if (!pair) break;
          [node, key] = [pair.value, pair.key as Node];
        } else if (isSeq(node)) {
          const item = node.items[Number(segment)];
          if (item === undefined) break;
          [node, key] = [item, undefined];
        } else break;
      }
      const target = part === "key" && key !== undefined ? key : (node as Node | null);
      return at(target?.range?.[0]);
    },
    locateInString(pointer, line, col) {
      const node = document.getIn(segments(pointer), true);
      const offset = isScalar(node) ? offsetInScalar(text, node, line, col) : undefined;
      return offset === undefined ? this.locate(pointer) : at(offset);
    },
  };
}

/** A recipe document from a plain object, as if read from `path`. */
export function recipeDoc(recipe: unknown, path = "/recipes/test-image.yaml"): SourceDocument<Recipe> {
  return sourceDocument<Recipe>(stringify(recipe), path, "recipe", basename(path));
}

/** An app document from a plain object, as if read from `path`. */
export function appDoc(app: unknown, path?: string): SourceDocument<App> {
  const { name, version } = app as { name: string; version: string };
  const file = path ?? `/apps/${name}-${version}.yaml`;
  return sourceDocument<App>(stringify(app), file, "app", basename(file));
}

/** Reads a YAML file; its `$schema` line says whether it is a recipe or an app. */
export async function loadYamlFile(path: string, cwd: string): Promise<SourceDocument<Recipe> | SourceDocument<App>> {
  const text = await readFile(path, "utf8");
  const kind: DocumentKind = /\$schema=\S*app\.schema\.json/.test(text) ? "app" : "recipe";
  const file = relative(cwd, path);
  return kind === "app" ? sourceDocument<App>(text, path, kind, file) : sourceDocument<Recipe>(text, path, kind, file);
}

export function ruleContext(docs: readonly (SourceDocument<Recipe> | SourceDocument<App>)[]): RuleContext {
  return {
    recipes: docs.filter((doc): doc is SourceDocument<Recipe> => doc.kind === "recipe"),
    apps: docs.filter((doc): doc is SourceDocument<App> => doc.kind === "app"),
  };
}

/** Every registered rule over the documents, sorted as the CLI prints them. */
export function checkAll(context: RuleContext): Problem[] {
  return rules.flatMap((rule) => rule.check(context)).sort(compareProblems);
}
