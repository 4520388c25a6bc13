/**
 * Where a line and column of a string value are in its YAML file, so a problem inside an inline
 * script (a PowerShell parse error at the script's line 3) points at the recipe's own line.
 * Exact for literal block scalars (`run: |`) and for the first line of one-line scalars; other
 * forms (folded `>`, escapes, explicit indentation) fall back to where the value starts.
 */
import { Scalar } from "yaml";

/**
 * The source offset of `line`:`col` (1-based) of the scalar's value, or undefined when the
 * source form does not map one to one.
 */
export function offsetInScalar(source: string, node: Scalar, line: number, col: number): number | undefined {
  if (!node.range || typeof node.value !== "string" || line < 1 || col < 1) return undefined;
  const valueLine = node.value.split("\n")[line - 1];
  if (valueLine === undefined) return undefined;
  const [start, end] = node.range;
  if (node.type === Scalar.BLOCK_LITERAL) return inLiteralBlock(source, start, end, line, col, valueLine);
  if (line !== 1 || node.type === Scalar.BLOCK_FOLDED) return undefined;
  const quote = node.type === Scalar.QUOTE_SINGLE || node.type === Scalar.QUOTE_DOUBLE ? 1 : 0;
  const contentStart = start + quote;
  const prefix = valueLine.slice(0, col - 1);
  // Escapes ('' or \n) before the column shift the source: then only the value's start is sure.
  return source.startsWith(prefix, contentStart) ? contentStart + col - 1 : undefined;
}

function inLiteralBlock(source: string, start: number, end: number, line: number, col: number, valueLine: string): number | undefined {
  const headerEnd = source.indexOf("\n", start);
  if (headerEnd < 0 || /^\|[+-]?\d/.test(source.slice(start, headerEnd))) return undefined;
  const lines = source.slice(headerEnd + 1, end).split("\n");
  const indent = lines.find((l) => l.trim() !== "")?.search(/\S/) ?? -1;
  const target = lines[line - 1];
  if (indent < 0 || target === undefined) return undefined;
  const lineStart = headerEnd + 1 + lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
  // The source line must read as the value's line does (no tab or CRLF surprises), else fall back.
  if (target.slice(indent).replace(/\r$/, "") !== valueLine.replace(/\r$/, "")) return undefined;
  return lineStart + indent + col - 1;
}
