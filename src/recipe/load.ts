/**
 * Reads one recipe or app file into a SourceDocument that remembers where every node came from.
 * Nothing here throws on bad input: unreadable bytes, YAML errors and hostile files (huge, deeply
 * nested, alias bombs) all become Problems with a line and column.
 */
import { dirname, basename, isAbsolute, relative, resolve, sep } from "node:path";
import {
  Composer,
  LineCounter,
  Parser,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  visit,
  type Alias,
  type CST,
  type Document,
  type Node,
  type YAMLError,
} from "yaml";
import type { DocumentKind, Position, SourceDocument } from "./document.ts";
import type { Problem } from "./problem.ts";
import { offsetInScalar } from "./scalar-position.ts";
import { yamlMistake } from "./yaml-errors.ts";
import { decodeText } from "../util/decode-text.ts";
import { formatLimit, InputFileError, inputFileRule, readInputFile } from "../util/read-input.ts";

/** Recipes and apps are a few KiB; anything this big is a mistake or an attack, rejected unread. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Nesting of mappings and sequences; recipes need fewer than ten levels. */
export const MAX_NESTING_DEPTH = 64;
/** Alias expansions per file; beyond this a file is a "billion laughs" bomb, not a recipe. */
export const MAX_ALIAS_EXPANSIONS = 100;

const WHOLE_FILE: Position = { line: 0, col: 0 };
const SCHEMA_COMMENT = /#\s*yaml-language-server:\s*\$schema=(\S+)/;
const SCHEMA_KINDS: Readonly<Record<string, DocumentKind>> = {
  "recipe.schema.json": "recipe",
  "app.schema.json": "app",
};
const KIND_DIRECTORIES: Readonly<Record<string, DocumentKind>> = { apps: "app", recipes: "recipe" };

/** The file system as load sees it; replaced in tests. */
export interface SourceFs {
  /** The file's bytes, at most `maxBytes`; rejects with InputFileError. */
  read(path: string, maxBytes: number): Promise<Uint8Array>;
}

/**
 * Synchronous on purpose: recipes are a few KiB, and for hundreds of small files the thread-pool
 * round trip of the promise API costs more than the read itself.
 */
export const nodeSourceFs: SourceFs = {
  read: async (path, maxBytes) => readInputFile(path, maxBytes),
};

export interface LoadOptions {
  /** Paths in problems are shown relative to this directory. */
  readonly cwd: string;
  /** Skips kind detection, e.g. for files found under apps/. */
  readonly kind?: DocumentKind;
  /** @default nodeSourceFs */
  readonly fs?: SourceFs;
}

/** A loaded file: the document when it parsed, and every problem found on the way. */
export interface LoadResult {
  /** Present when the file is a single YAML mapping without errors (warnings allowed). */
  readonly document?: SourceDocument<unknown>;
  readonly problems: readonly Problem[];
}

/** How a file is named in output: relative to the working directory when it lies inside it. */
export function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}

/** Reads, decodes and parses one file. */
export async function loadDocument(path: string, options: LoadOptions): Promise<LoadResult> {
  const absolute = resolve(options.cwd, path);
  const file = displayPath(options.cwd, absolute);
  const fs = options.fs ?? nodeSourceFs;
  const fail = (rule: string, message: string, hint?: string): LoadResult => ({
    problems: [{ file, ...WHOLE_FILE, rule, severity: "error", message, ...(hint ? { hint } : {}) }],
  });
  let bytes: Uint8Array;
  try {
    bytes = await fs.read(absolute, MAX_FILE_BYTES);
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    const { rule, hint } = inputFileRule(error);
    return fail(rule, error.message, hint);
  }
  return parseSource(bytes, { file, path: absolute, kind: options.kind });
}

export interface SourceOrigin {
  readonly file: string;
  readonly path: string;
  readonly kind?: DocumentKind;
}

/** Decodes and parses bytes already read; the pure half of loadDocument. */
export function parseSource(bytes: Uint8Array, origin: SourceOrigin): LoadResult {
  const { file } = origin;
  if (bytes.length > MAX_FILE_BYTES) {
    return {
      problems: [{
        file, ...WHOLE_FILE, rule: "file-too-large", severity: "error",
        message: `the file is larger than ${formatLimit(MAX_FILE_BYTES)}`,
      }],
    };
  }
  const decoded = decodeText(bytes, { utf16: false });
  if (!decoded.ok) {
    return {
      problems: [{
        file, ...decoded.position, rule: "encoding", severity: "error",
        message: `the file is not valid UTF-8: byte 0x${decoded.byte.toString(16).padStart(2, "0")} at offset ${decoded.offset}`,
        hint: decoded.utf16 ? "the file is UTF-16 (it starts with a byte-order mark): save it as UTF-8" : "save the file as UTF-8",
      }],
    };
  }
  return parseYaml(decoded.text, origin);
}

const YAML_RULES: Readonly<Partial<Record<YAMLError["code"], { readonly rule: string; readonly hint?: string }>>> = {
  TAB_AS_INDENT: { rule: "yaml-tab-indent", hint: "indent with spaces: YAML does not allow tabs for indentation" },
  DUPLICATE_KEY: { rule: "yaml-duplicate-key", hint: "each key may appear once in a mapping: remove or merge the duplicate" },
  RESOURCE_EXHAUSTION: { rule: "yaml-too-deep", hint: `nest at most ${MAX_NESTING_DEPTH} levels` },
};
const SYNTAX_HINT = "check the indentation (spaces, the same for each level), the ': ' after each key, and closing quotes and brackets";

function parseYaml(text: string, origin: SourceOrigin): LoadResult {
  const { file } = origin;
  const lines = new LineCounter();
  const at = (offset: number): Position => lines.linePos(offset);
  const problem = (offset: number, rule: string, message: string, extra: Partial<Problem> = {}): Problem => ({
    file, ...at(offset), rule, severity: "error", message, ...extra,
  });

  const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
  const { tooDeep, hasAliases } = scanTokens(tokens);
  if (tooDeep !== undefined) {
    return {
      problems: [problem(tooDeep, "yaml-too-deep", `nesting deeper than ${MAX_NESTING_DEPTH} levels`, { hint: "flatten the structure; recipes need only a few levels" })],
    };
  }

  const docs = Array.from(new Composer({ uniqueKeys: true, strict: true }).compose(tokens, true, text.length));
  const problems: Problem[] = [];
  const [doc, second] = docs;
  if (!doc) return { problems: [problem(0, "yaml-empty", "the file holds no YAML document", { line: 0, col: 0, hint: "a recipe or app is a YAML mapping" })] };
  if (second) {
    problems.push(problem(second.range[0], "yaml-multiple-documents", "a file holds one recipe or one app, but a second YAML document starts here", {
      hint: "remove the '---' separator and split the documents into separate files",
    }));
  }
  // The parser often reports one mistake several times on its line, and after a structural
  // mistake it misreads what follows: the first syntax error says it best. Tabs and duplicate
  // keys are each their own mistake.
  const seenLines = new Set<number>();
  let syntaxReported = false;
  for (const [error, severity] of [...doc.errors.map((e) => [e, "error"] as const), ...doc.warnings.map((w) => [w, "warning"] as const)]) {
    const found = yamlProblem(error, severity);
    if (seenLines.has(found.line) || (found.rule === "yaml-syntax" && syntaxReported)) continue;
    seenLines.add(found.line);
    if (found.rule === "yaml-syntax") syntaxReported = true;
    problems.push(found);
  }
  if (problems.some((p) => p.severity === "error")) return { problems };

  function yamlProblem(error: YAMLError, severity: Problem["severity"]): Problem {
    const mistake = yamlMistake(error, text);
    const message = mistake.message;
    const mapped = YAML_RULES[error.code];
    const hint = mapped?.hint ?? (severity === "error" && !mistake.reworded ? SYNTAX_HINT : undefined);
    const extra: Partial<Problem> = { severity, ...(hint ? { hint } : {}) };
    if (error.code === "DUPLICATE_KEY") {
      const key = /^("[^"\n]*"|'[^'\n]*'|[^:\r\n]*)/.exec(text.slice(error.pos[0]))?.[1]?.trim();
      return problem(error.pos[0], mapped?.rule ?? "yaml-syntax", "duplicate key in a mapping", { ...extra, ...(key ? { got: key } : {}) });
    }
    return problem(mistake.offset, mapped?.rule ?? (severity === "error" ? "yaml-syntax" : "yaml-warning"), message, extra);
  }

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return { problems: [...problems, problem(0, "yaml-empty", "the file is empty", { line: 0, col: 0, hint: "a recipe or app is a YAML mapping" })] };
  }
  // Walking the document for aliases costs as much as composing it; most files have none.
  const unknown = hasAliases ? firstUnknownAlias(doc) : undefined;
  if (unknown) {
    return {
      problems: [...problems, problem(unknown.range?.[0] ?? 0, "yaml-unknown-alias", `alias *${unknown.source} names no anchor defined before it`, {
        got: `*${unknown.source}`, hint: `define &${unknown.source} on a value above this line, or write the value out`,
      })],
    };
  }
  const loop = hasAliases ? firstSelfAlias(doc) : undefined;
  if (loop) {
    return {
      problems: [...problems, problem(loop.range?.[0] ?? 0, "yaml-alias-cycle", `alias *${loop.source} lies inside the value anchored as &${loop.source}, so the value would contain itself without end`, {
        got: `*${loop.source}`, hint: `write the items out, or move &${loop.source} to a value that does not contain this alias`,
      })],
    };
  }
  const bomb = hasAliases ? firstExcessiveAlias(doc) : undefined;
  if (bomb) {
    return { problems: [...problems, aliasProblem(bomb)] };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch {
    // yaml counts expansions its own way; its verdict is the backstop for ours.
    const first = firstAlias(doc);
    return { problems: [...problems, first ? aliasProblem(first) : problem(0, "yaml-alias-limit", "too many alias expansions")] };
  }
  function aliasProblem(alias: Alias): Problem {
    return problem(alias.range?.[0] ?? 0, "yaml-alias-limit", `aliases expand to more than ${MAX_ALIAS_EXPANSIONS} nodes`, {
      got: `*${alias.source}`,
      hint: "write the values out, or reuse them with fewer nested aliases",
    });
  }
  if (!isMap(doc.contents)) {
    const what = isSeq(doc.contents) ? "a list" : "a single value";
    return {
      problems: [...problems, problem(doc.contents.range?.[0] ?? 0, "yaml-not-mapping", `the top level is ${what}, but a recipe or app is a mapping of keys`, {
        ...(isSeq(doc.contents) ? {} : { got: value }), hint: "start the file with keys such as 'metadata:' or 'name:'",
      })],
    };
  }
  const kind = origin.kind ?? detectKind(text, origin.path, value);
  return { document: new YamlSourceDocument(origin.file, origin.path, kind, value, doc, lines, text), problems };
}

interface TokenScan {
  /** Offset of the first collection nested deeper than the limit. */
  readonly tooDeep?: number;
  readonly hasAliases: boolean;
}

/** One pass over the CST, without recursion, so hostile nesting cannot overflow the stack. */
function scanTokens(tokens: readonly CST.Token[]): TokenScan {
  const stack: Array<{ readonly token: CST.Token; readonly depth: number }> = [];
  let hasAliases = false;
  for (const token of tokens) if (token.type === "document" && token.value) stack.push({ token: token.value, depth: 0 });
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (token.type === "alias") hasAliases = true;
    if (token.type !== "block-map" && token.type !== "block-seq" && token.type !== "flow-collection") continue;
    if (depth + 1 > MAX_NESTING_DEPTH) return { tooDeep: token.offset, hasAliases };
    for (const item of token.items) {
      if (item.key) stack.push({ token: item.key, depth: depth + 1 });
      if (item.value) stack.push({ token: item.value, depth: depth + 1 });
    }
  }
  return { hasAliases };
}

/** The alias at which the running total of expansions passes the limit. */
function firstExcessiveAlias(doc: Document.Parsed): Alias | undefined {
  const expansions = new Map<Node, number>();
  const expanding = new Set<Node>();
  const cost = (node: Node): number => {
    const known = expansions.get(node);
    if (known !== undefined) return known;
    if (expanding.has(node)) return 0;
    expanding.add(node);
    let total = 0;
    visit(node, {
      Alias(_, alias) {
        const target = alias.resolve(doc);
        total += 1 + (target ? cost(target) : 0);
        if (total > MAX_ALIAS_EXPANSIONS) return visit.BREAK;
        return undefined;
      },
    });
    expanding.delete(node);
    expansions.set(node, total);
    return total;
  };
  let running = 0;
  let found: Alias | undefined;
  visit(doc, {
    Alias(_, alias) {
      const target = alias.resolve(doc);
      running += 1 + (target ? cost(target) : 0);
      if (running > MAX_ALIAS_EXPANSIONS) {
        found = alias;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** An alias inside the very node it names (`a: &x [1, *x]`): the value would contain itself. */
export function firstSelfAlias(doc: Document): Alias | undefined {
  let found: Alias | undefined;
  visit(doc, {
    Alias(_, alias, path) {
      const target = alias.resolve(doc);
      if (!target || !path.includes(target as never)) return undefined;
      found = alias;
      return visit.BREAK;
    },
  });
  return found;
}

function firstUnknownAlias(doc: Document.Parsed): Alias | undefined {
  let found: Alias | undefined;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc)) return undefined;
      found = alias;
      return visit.BREAK;
    },
  });
  return found;
}

function firstAlias(doc: Document.Parsed): Alias | undefined {
  let found: Alias | undefined;
  visit(doc, {
    Alias(_, alias) {
      found = alias;
      return visit.BREAK;
    },
  });
  return found;
}

/**
 * Recipe or app: the editor's `$schema` comment says it best, then the directory the file lives
 * in (apps/ or recipes/, the nearest wins), then the content (only recipes have `metadata`).
 */
export function detectKind(text: string, path: string, value: unknown): DocumentKind {
  const schema = SCHEMA_COMMENT.exec(text)?.[1];
  const fromSchema = schema ? SCHEMA_KINDS[basename(schema.split(/[?#]/)[0] ?? "")] : undefined;
  if (fromSchema) return fromSchema;
  const dirs = dirname(path).split(sep).reverse();
  for (const dir of dirs) {
    const kind = KIND_DIRECTORIES[dir];
    if (kind) return kind;
  }
  const keys = value !== null && typeof value === "object" ? Object.keys(value) : [];
  if (keys.includes("metadata")) return "recipe";
  return keys.includes("name") && (keys.includes("install") || keys.includes("source")) ? "app" : "recipe";
}

/** Splits a JSON pointer (`/target/pvs/vdiskName`, `~1` for `/`, `~0` for `~`). */
export function pointerSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

class YamlSourceDocument<T> implements SourceDocument<T> {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly kind: DocumentKind,
    readonly value: T,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly source: string,
  ) {}

  locateInString(pointer: string, line: number, col: number): Position {
    const steps = [...this.walk(pointer)];
    const found = steps.length === pointerSegments(pointer).length ? (steps.at(-1)?.node ?? this.doc.contents) : undefined;
    const offset = isScalar(found) ? offsetInScalar(this.source, found, line, col) : undefined;
    return offset === undefined ? this.locate(pointer) : this.lines.linePos(offset);
  }

  locate(pointer: string, part: "key" | "value" = "value"): Position {
    let valueAt = start(this.doc.contents as Node | null) ?? 0;
    let keyAt: number | undefined;
    for (const step of this.walk(pointer)) {
      keyAt = step.key;
      valueAt = step.value ?? step.key ?? valueAt;
    }
    return this.lines.linePos(part === "key" && keyAt !== undefined ? keyAt : valueAt);
  }

  /** Each node along the pointer, as far as it exists, with where its key and value start. */
  private *walk(pointer: string): Generator<{ key?: number; value?: number; node: unknown }> {
    let node: unknown = this.doc.contents;
    for (const segment of pointerSegments(pointer)) {
      const container = isAlias(node) ? node.resolve(this.doc) : node;
      let next: { key?: number; value?: number; node: unknown } | undefined;
      if (isMap(container)) {
        const pair = container.items.find((p) => keyText(p.key) === segment);
        if (pair) next = { key: start(pair.key as Node), value: start(pair.value as Node), node: pair.value };
      } else if (isSeq(container) && /^\d+$/.test(segment)) {
        const item = container.items[Number(segment)];
        if (item !== undefined) next = { value: start(item as Node), node: item };
      }
      if (!next) return;
      yield next;
      node = next.node;
    }
  }
}

/** Where a node starts, or undefined for `key:` with nothing after it (the key is where the eye goes). */
function start(node: Node | null | undefined): number | undefined {
  if (!node?.range) return undefined;
  if (isScalar(node) && node.value === null && node.range[0] === node.range[1]) return undefined;
  return node.range[0];
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return key === null || key === undefined ? undefined : String(key);
}
