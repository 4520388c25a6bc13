/**
 * Every byte a command prints passes here: credentials that slipped past validation are masked
 * and control characters from the input are shown escaped, whatever the command or format.
 */
import { maskSecrets } from "../recipe/secret-patterns.ts";
import { escapeOutput } from "../util/terminal-text.ts";
import type { CliIo } from "./io.ts";

/** The text as it may reach a terminal, a log or a PR comment. */
export function safeText(text: string): string {
  return escapeOutput(maskSecrets(text));
}

export function safeIo(io: CliIo): CliIo {
  return { ...io, stdout: (text) => io.stdout(safeText(text)), stderr: (text) => io.stderr(safeText(text)) };
}
