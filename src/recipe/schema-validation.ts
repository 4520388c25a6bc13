/**
 * Checks a loaded file against its JSON Schema (schemas/*.schema.json) and turns ajv's errors into
 * Problems a person can act on: one problem per mistake, at the line and column of the mistake,
 * with "did you mean" for typos and no echo of secrets.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { DocumentKind, SourceDocument } from "./document.ts";
import type { Problem } from "./problem.ts";
import { suggest } from "./suggest.ts";

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const SCHEMA_FILES: Readonly<Record<DocumentKind, URL>> = {
  recipe: new URL("../../schemas/recipe.schema.json", import.meta.url),
  app: new URL("../../schemas/app.schema.json", import.meta.url),
};

/** Shown instead of a value that should have been a secret reference. */
export const REDACTED = "<redacted>";
/** Values longer than this are summarised in `got`, so a stray blob does not flood the output. */
const MAX_GOT_CHARS = 120;

/**
 * Named shapes described in words. The schema's pattern stays the authority; these say what it
 * means for the definitions whose own description is too long for a one-line message.
 */
const SHAPE_WORDS: Readonly<Record<string, string>> = {
  SecretRef: "a secret reference like env:NAME or pulumi:key",
  Sha256: "a sha256 digest: 64 lowercase hex characters",
  AppRef: "an app reference like name@version, e.g. 7zip@23.01",
};

/**
 * Every other pattern of the schemas in words: messages state a constraint, never a regular
 * expression. A test checks that each pattern in schemas/ has its words here.
 */
export const PATTERN_WORDS: Readonly<Record<string, string>> = {
  "^(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Ii][Ll][Ee]):": "an address the downloader can fetch: https://, http:// or file://",
  "^[0-9]+\\.[0-9]+\\.[0-9]+([-+][A-Za-z0-9.-]+)?$": "a version of three numbers like 1.2.3, optionally with a -suffix",
  "^[A-Za-z0-9-]{1,15}$": "at most 15 letters, digits or hyphens",
  "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$": "1 to 63 letters, digits, dots, underscores or hyphens, starting with a letter or digit",
  "^[a-z0-9][a-z0-9-]{0,62}$": "1 to 63 lowercase letters, digits or hyphens, starting with a letter or digit",
  "^[a-z0-9][a-z0-9._-]*$": "lowercase letters, digits, dots, underscores or hyphens, starting with a letter or digit",
  "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$": "a language tag like en-US or de-DE",
};

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  object: "a mapping of keys",
  array: "a list",
  null: "empty",
};

/** Keywords about a value itself, most telling first. */
const VALUE_KEYWORDS: readonly string[] = [
  "const", "enum", "type", "discriminator", "format", "pattern",
  "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
];
const COMBINATORS = new Set(["oneOf", "anyOf", "allOf", "if", "not"]);
const RANGE_KEYWORDS = new Set([
  "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
  "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
]);

type JsonSchema = {
  readonly [key: string]: unknown;
  readonly description?: string;
  readonly pattern?: string;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly definitions?: Readonly<Record<string, JsonSchema>>;
  readonly oneOf?: readonly JsonSchema[];
  readonly $ref?: string;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
};

interface Compiled {
  readonly validate: ValidateFunction;
  readonly root: JsonSchema;
  /** Pattern text -> name of the definition that declares it, e.g. SecretRef. */
  readonly shapes: ReadonlyMap<string, string>;
  readonly secretPattern: string | undefined;
}

let compiled: Readonly<Record<DocumentKind, Compiled>> | undefined;

/** Compiles both schemas on first use, once per process: compiling costs far more than validating. */
function compiledSchemas(): Readonly<Record<DocumentKind, Compiled>> {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: true, verbose: true, discriminator: true });
  addFormats(ajv, ["uri"]);
  const compile = (kind: DocumentKind): Compiled => {
    const root = JSON.parse(readFileSync(SCHEMA_FILES[kind], "utf8")) as JsonSchema;
    const shapes = new Map<string, string>();
    for (const [name, definition] of Object.entries(root.definitions ?? {})) {
      if (typeof definition.pattern === "string") shapes.set(definition.pattern, name);
    }
    return { validate: ajv.compile(root), root, shapes, secretPattern: root.definitions?.SecretRef?.pattern };
  };
  compiled = { recipe: compile("recipe"), app: compile("app") };
  return compiled;
}

/** Every schema problem of a document; an empty list means the value matches its schema. */
export function checkSchema(document: SourceDocument<unknown>): Problem[] {
  const schema = compiledSchemas()[document.kind];
  if (schema.validate(document.value)) return [];
  return explain(schema.validate.errors ?? [], document, schema);
}

function explain(errors: readonly ErrorObject[], document: SourceDocument<unknown>, schema: Compiled): Problem[] {
  const specific = errors.filter((e) => !COMBINATORS.has(e.keyword));
  // A failed oneOf/anyOf says nothing its branches' errors do not say more precisely.
  const unwrapped = errors.filter(
    (e) => !COMBINATORS.has(e.keyword) || !specific.some((s) => isWithin(s.instancePath, e.instancePath)),
  );
  // One bad value is one mistake, however many keywords it breaks (2.5e11 for cpus is neither
  // whole nor in range; ftp:isos is neither a URI nor a fetchable scheme): the most telling wins.
  const byValue = new Map<string, ErrorObject>();
  for (const e of unwrapped) {
    const rank = VALUE_KEYWORDS.indexOf(e.keyword);
    if (rank < 0) continue;
    const held = byValue.get(e.instancePath);
    if (!held || rank < VALUE_KEYWORDS.indexOf(held.keyword)) byValue.set(e.instancePath, e);
  }
  const relevant = unwrapped.filter((e) => !VALUE_KEYWORDS.includes(e.keyword) || byValue.get(e.instancePath) === e);
  const missing = new Set(relevant.filter((e) => e.keyword === "required").map((e) => `${e.instancePath}/${String(e.params.missingProperty)}`));
  // A misspelt required key shows up twice (unknown key + missing key): report the typo only.
  const explainedByTypo = new Set<string>();
  for (const e of relevant) {
    if (e.keyword !== "additionalProperties") continue;
    const guess = suggest(String(e.params.additionalProperty), Object.keys(propertiesOf(e)));
    if (guess && missing.has(`${e.instancePath}/${guess}`)) explainedByTypo.add(`${e.instancePath}/${guess}`);
  }

  const problems = new Map<string, Problem>();
  for (const error of relevant) {
    if (error.keyword === "required" && explainedByTypo.has(`${error.instancePath}/${String(error.params.missingProperty)}`)) continue;
    if (error.keyword === "discriminator" && error.params.error === "tag" && missing.has(`${error.instancePath}/${String(error.params.tag)}`)) continue;
    const problem = translate(error, document, schema, missing);
    const key = `${problem.rule}\0${problem.pointer}\0${problem.message}`;
    if (!problems.has(key)) problems.set(key, problem);
  }
  return [...problems.values()];
}

function translate(error: ErrorObject, document: SourceDocument<unknown>, schema: Compiled, missing: ReadonlySet<string>): Problem {
  const path = error.instancePath;
  const where = describePointer(path);
  const parent = (error.parentSchema ?? {}) as JsonSchema;
  const at = (pointer: string, part: "key" | "value" = "value") => ({ file: document.file, ...document.locate(pointer, part), pointer });
  const base = { severity: "error" as const };
  const data: unknown = error.data;

  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(error.params.additionalProperty);
      const allowed = Object.keys(propertiesOf(error));
      const guess = suggest(key, allowed);
      const fixesMissing = guess !== undefined && missing.has(`${path}/${guess}`);
      return {
        ...base, ...at(`${path}/${escapePointer(key)}`, "key"), rule: "schema-unknown-key",
        message: `unknown key '${key}' in ${where}${fixesMissing ? ` (and the required key '${guess}' is missing)` : ""}`,
        hint: guess ? `did you mean '${guess}'?` : `allowed keys: ${allowed.join(", ")}`,
      };
    }
    case "required": {
      const key = String(error.params.missingProperty);
      const description = parent.properties?.[key]?.description;
      const tags = discriminatorTags(parent, key, schema.root);
      const what = tags.length > 0 ? `one of ${tags.join(", ")}` : description ? sentence(description) : undefined;
      return {
        ...base, ...at(path, "key"), rule: "schema-required",
        message: `${where} is missing the required key '${key}'`,
        hint: what ? `add '${key}': ${what}` : `add '${key}'`,
      };
    }
    case "type": {
      const expected = String(error.params.type).split(",").map((t) => TYPE_WORDS[t] ?? t).join(" or ");
      // Whatever stands where a secret reference belongs may be the secret: never echo it.
      if (isSecretField(parent, schema) && data !== null) return secretLiteral(at(path), where);
      const hint = String(error.params.type) === "string" && (typeof data === "number" || typeof data === "boolean")
        ? `quote the value ("...") so YAML reads it as text: unquoted, ${JSON.stringify(data)} is read as a ${typeof data}`
        : undefined;
      const range = rangeOf(parent);
      return {
        ...base, ...at(path), rule: "schema-type",
        message: data === null ? `${where} is empty, but must be ${expected}${range}` : `${where} must be ${expected}${range}`,
        got: summarise(data), ...(hint ? { hint } : {}),
      };
    }
    case "enum":
    case "const": {
      const allowed = error.keyword === "enum" ? (error.params.allowedValues as unknown[]) : [error.params.allowedValue];
      return enumProblem(at(path), where, allowed, data);
    }
    case "discriminator": {
      const tag = String(error.params.tag);
      const allowed = discriminatorTags(parent, tag, schema.root);
      return enumProblem(at(`${path}/${escapePointer(tag)}`), describePointer(`${path}/${escapePointer(tag)}`), allowed, error.params.tagValue);
    }
    case "pattern": {
      const pattern = String(error.params.pattern);
      if (pattern === schema.secretPattern) return secretLiteral(at(path), where);
      const shape = schema.shapes.get(pattern);
      const words = (shape ? SHAPE_WORDS[shape] : undefined) ?? PATTERN_WORDS[pattern];
      return {
        ...base, ...at(path), rule: "schema-pattern",
        message: words
          ? `${where} must be ${words}`
          : `${where} does not have the expected form${parent.description ? ` (${sentence(parent.description)})` : ""}`,
        got: summarise(data), ...(parent.description ? { hint: sentence(parent.description) } : {}),
      };
    }
    case "format":
      return {
        ...base, ...at(path), rule: "schema-format",
        message: `${where} must be a valid ${String(error.params.format)}`,
        got: summarise(data),
        ...(error.params.format === "uri" ? { hint: "write a full address with its scheme, e.g. https://host/file.iso" } : {}),
      };
    default:
      if (RANGE_KEYWORDS.has(error.keyword)) {
        return { ...base, ...at(path), rule: "schema-range", message: `${where} ${rangeWords(error, parent)}`, got: summarise(data) };
      }
      return { ...base, ...at(path), rule: `schema-${error.keyword}`, message: `${where} ${error.message ?? "is invalid"}`, got: summarise(data) };
  }

  function enumProblem(location: ReturnType<typeof at>, name: string, allowed: readonly unknown[], value: unknown): Problem {
    const words = allowed.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
    const guess = typeof value === "string" ? suggest(value, words) : undefined;
    return {
      ...base, ...location, rule: "schema-enum",
      message: `${name} must be one of: ${words.join(", ")}`,
      got: summarise(value), ...(guess ? { hint: `did you mean '${guess}'?` } : {}),
    };
  }

  function secretLiteral(location: ReturnType<typeof at>, name: string): Problem {
    return {
      ...base, ...location, rule: "secret-literal",
      message: `${name} must be ${SHAPE_WORDS.SecretRef}, never a literal secret in the file`,
      got: REDACTED, hint: "put it in an environment variable and write env:NAME (or use pulumi:key for a stack secret)",
    };
  }
}

function isSecretField(parent: JsonSchema, schema: Compiled): boolean {
  return schema.secretPattern !== undefined && parent.pattern === schema.secretPattern;
}

function propertiesOf(error: ErrorObject): Readonly<Record<string, JsonSchema>> {
  return ((error.parentSchema ?? {}) as JsonSchema).properties ?? {};
}

/** The values a discriminated union accepts for its tag, e.g. mcs and pvs for target.kind. */
function discriminatorTags(union: JsonSchema, tag: string, root: JsonSchema): unknown[] {
  const discriminator = union.discriminator as { readonly propertyName?: string } | undefined;
  if (discriminator?.propertyName !== tag) return [];
  return (union.oneOf ?? []).flatMap((branch) => {
    const property = resolve(branch, root).properties?.[tag];
    return property?.const !== undefined ? [property.const] : [...(property?.enum ?? [])];
  });
}

function resolve(node: JsonSchema, root: JsonSchema): JsonSchema {
  const name = node.$ref?.match(/^#\/definitions\/(.+)$/)?.[1];
  return (name ? root.definitions?.[name] : undefined) ?? node;
}

/** ", from 1 to 128" when the schema bounds a number on both sides; the whole range in one phrase. */
function rangeOf(schema: JsonSchema): string {
  const { minimum, maximum } = schema as { minimum?: number; maximum?: number };
  if (minimum !== undefined && maximum !== undefined) return ` from ${minimum} to ${maximum}`;
  if (minimum !== undefined) return ` of at least ${minimum}`;
  return maximum !== undefined ? ` of at most ${maximum}` : "";
}

function rangeWords(error: ErrorObject, parent: JsonSchema): string {
  const limit = String(error.params.limit);
  if (error.keyword === "minimum" || error.keyword === "maximum") {
    const whole = parent.type === "integer" ? "a whole number" : "a number";
    if (rangeOf(parent).startsWith(" from")) return `must be ${whole}${rangeOf(parent)}`;
  }
  switch (error.keyword) {
    case "minimum": return `must be at least ${limit}`;
    case "maximum": return `must be at most ${limit}`;
    case "exclusiveMinimum": return `must be greater than ${limit}`;
    case "exclusiveMaximum": return `must be less than ${limit}`;
    case "minLength": return `must be at least ${limit} characters long`;
    case "maxLength": return `must be at most ${limit} characters long`;
    case "minItems": return limit === "1" ? "must not be empty" : `must have at least ${limit} items`;
    case "maxItems": return `must have at most ${limit} items`;
    case "minProperties": {
      const keys = Object.keys(parent.properties ?? {});
      return keys.length ? `must name at least ${limit === "1" ? "one" : limit} of: ${keys.join(", ")}` : `must have at least ${limit} keys`;
    }
    default: return `must have at most ${limit} keys`;
  }
}

/** True when `path` is `ancestor` or lies below it. */
function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

/** `/drivers/0/name` -> `drivers[0].name`; the root is "the top level". */
export function describePointer(pointer: string): string {
  if (pointer === "") return "the top level";
  let out = "";
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(segment) ? `[${segment}]` : `${out ? "." : ""}${segment}`;
  }
  return out;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** A schema description as part of a sentence: lower-case start, no final period. */
function sentence(description: string): string {
  const text = description.replace(/\.$/, "");
  // "Recipe name" -> "recipe name", but "vDisk" and "MCS" keep their case.
  return /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}

/** The offending value, shortened when it is large. */
function summarise(value: unknown): unknown {
  // JSON has no Infinity or NaN (YAML's .inf, .nan): show them as written, not as null.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "string") return value.length > MAX_GOT_CHARS ? `${value.slice(0, MAX_GOT_CHARS)}…` : value;
  if (value === null || typeof value !== "object") return value;
  const text = JSON.stringify(value);
  if (text.length <= MAX_GOT_CHARS) return value;
  return Array.isArray(value) ? `a list of ${value.length} items` : `a mapping with keys ${Object.keys(value).join(", ")}`.slice(0, MAX_GOT_CHARS);
}
