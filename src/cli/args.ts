/**
 * The one argument parser every command uses, so an unknown flag, a flag without its value or a
 * stray argument is the same usage error (exit 2, the command's usage line) everywhere, in words
 * rather than Node's parser text.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./io.ts";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Every command takes these two. */
const COMMON = { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } as const;

type Config<T extends OptionSpecs> = { args: string[]; allowPositionals: true; strict: true; options: T & typeof COMMON };
export type ParsedArgs<T extends OptionSpecs = OptionSpecs> = ReturnType<typeof parseArgs<Config<T>>>;

/**
 * Parses `args` against `options` (plus --json and --help). A string option whose value starts
 * with `-` must be written `--name=value`, so `--stack --json` is never read as the stack `--json`.
 */
export function parseCommandArgs<T extends OptionSpecs>(args: readonly string[], options: T, maxPositionals = Infinity): ParsedArgs<T> {
  const specs = { ...options, ...COMMON };
  const tokens = tokenize(args, specs);
  let parsed: ParsedArgs<T>;
  try {
    parsed = parseArgs({ args: tokens, allowPositionals: true, strict: true, options: specs } as ParseArgsConfig) as ParsedArgs<T>;
  } catch (error) {
    throw new UsageError(explain(error as NodeJS.ErrnoException, args, specs));
  }
  const extra = parsed.positionals.slice(maxPositionals);
  if (extra.length > 0 && !(parsed.values as Record<string, unknown>)["help"]) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  return parsed;
}

/** Checks what parseArgs leaves to us: a string option followed by nothing or by another flag. */
function tokenize(args: readonly string[], specs: OptionSpecs): string[] {
  args.forEach((arg, i) => {
    const name = optionName(arg, specs);
    if (name === undefined || specs[name]?.type !== "string" || arg.includes("=")) return;
    const next = args[i + 1];
    if (next === undefined || next === "--") throw new UsageError(`${arg} needs a value`);
    if (next.startsWith("-") && next !== "-") throw new UsageError(`${arg} needs a value, got the flag ${next} (write ${arg}=${next} if that is the value)`);
  });
  return [...args];
}

function optionName(arg: string, specs: OptionSpecs): string | undefined {
  if (arg.startsWith("--")) return arg.slice(2).split("=")[0];
  if (/^-[A-Za-z]$/.test(arg)) return Object.entries(specs).find(([, spec]) => spec.short === arg.slice(1))?.[0];
  return undefined;
}

/** Node's parser messages name its own internals; ours name the flag and what to do. */
function explain(error: NodeJS.ErrnoException, args: readonly string[], specs: OptionSpecs): string {
  const flag = /'(-[^' ]+)/.exec(error.message)?.[1] ?? args.find((a) => a.startsWith("-")) ?? "";
  const known = Object.keys(specs).map((name) => `--${name}`).join(", ");
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${flag}; this command takes ${known}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `${flag.split("=")[0]} ${specs[flag.replace(/^--?/, "").split("=")[0] ?? ""]?.type === "boolean" ? "takes no value" : "needs a value"}`;
    default:
      return `cannot read the arguments: ${error.message.split("\n")[0]}`;
  }
}

/** The usage lines at the top of a command's help, printed with every usage error. */
export function usageLines(help: string): string {
  const lines = help.split("\n");
  const end = lines.findIndex((line, i) => i > 0 && !/^\s+rebake\b/.test(line));
  return lines.slice(0, end < 0 ? 1 : end).join("\n");
}
