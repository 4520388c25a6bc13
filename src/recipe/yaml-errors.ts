/**
 * The YAML parser's errors in words a recipe author acts on, placed where the mistake is: an
 * unclosed `[` or quote is reported where it opens, not on the line where the parser gave up.
 */
import type { YAMLError } from "yaml";

export interface YamlMistake {
  /** Offset in the text the problem points at. */
  readonly offset: number;
  readonly message: string;
  /** The message says the fix itself; the generic syntax hint would only repeat it. */
  readonly reworded: boolean;
}

interface Wording {
  readonly match: RegExp;
  readonly message: string;
  /** Where the mistake really is, when the parser's position is where it noticed it. */
  readonly locate?: (text: string, offset: number) => number | undefined;
}

const WORDINGS: readonly Wording[] = [
  { match: /Flow sequence .* end with a \]/, message: "this [ list is never closed: add the ] at its end (a list that goes on over several lines needs each line indented under its key)", locate: (t, o) => unclosed(t, o, "[", "]") },
  { match: /Flow map .* end with a \}/, message: "this { mapping is never closed: add the } at its end (a mapping that goes on over several lines needs each line indented under its key)", locate: (t, o) => unclosed(t, o, "{", "}") },
  { match: /Missing closing "quote/, message: "this quoted text is never closed: add the closing \" (or use ' quotes, or none)", locate: (t, o) => unclosedQuote(t, o, '"') },
  { match: /Missing closing 'quote/, message: "this quoted text is never closed: add the closing ' (write '' for a ' inside it)", locate: (t, o) => unclosedQuote(t, o, "'") },
  { match: /Nested mappings are not allowed in compact mappings/, message: "a second 'key:' on the same line as another, or a line indented too deep: put each key on its own line, indented one level under its parent" },
  { match: /Implicit keys need to be on a single line|Implicit map keys need to be followed by map values/, message: "a line without ': ' after its key, or indented differently from the keys around it" },
  { match: /A block sequence may not be used as an implicit map key/, message: "a '- ' item indented differently from the items above it" },
  { match: /Plain value cannot start with reserved character (.)/, message: "a value cannot start with this character unquoted: put the value in quotes" },
  { match: /Unexpected flow-(?:seq|map)-end token/, message: "a closing bracket without an opening one: remove it, or add the [ or { it closes" },
  { match: /Unexpected .* token in YAML stream|Unexpected scalar at node end/, message: "text where YAML expects a new key or item: check the indentation and the ': ' after each key" },
];

/** The parser's message without its "at line L, column C:" excerpt, reworded when it is cryptic. */
export function yamlMistake(error: YAMLError, text: string): YamlMistake {
  const raw = error.message.replace(/\s+at line \d+, column \d+:[\s\S]*$/, "");
  const wording = WORDINGS.find((w) => w.match.test(raw));
  const offset = error.pos[0];
  if (!wording) return { offset, message: raw, reworded: false };
  return { offset: wording.locate?.(text, offset) ?? offset, message: wording.message, reworded: true };
}

/** The last opener before `offset` that is not closed before it, outside quotes. */
function unclosed(text: string, offset: number, open: string, close: string): number | undefined {
  const openers: number[] = [];
  let quote: string | undefined;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\n") quote = undefined;
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === open) openers.push(i);
    else if (c === close) openers.pop();
  }
  return openers.at(-1);
}

/** The opening quote of the quoted scalar still open at `offset`. */
function unclosedQuote(text: string, offset: number, quote: string): number | undefined {
  for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
    if (text[i] !== quote) continue;
    const before = text.slice(text.lastIndexOf("\n", i - 1) + 1, i);
    // An opening quote starts a value: after "key: ", "- ", "[", "," or at the start of a line.
    if (/(?:^|[:\-[{,]\s*|^\s*)$/.test(before)) return i;
  }
  return undefined;
}
