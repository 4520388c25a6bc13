/**
 * PowerShell 7 for tests: the pwsh scripts/install-powershell.sh installs, and one parser shared
 * by a test file, so every text it checks goes through a single pwsh process.
 */
import { createExec } from "../../src/util/exec.ts";
import { createPowerShellParser, type PowerShellParser, type PowerShellSyntaxError } from "../../src/util/powershell-parser.ts";
import { findPwsh, PWSH_INSTALL_HINT } from "../../src/util/pwsh.ts";

/** The pwsh to run; throws (failing the test) with how to install it when there is none. */
export function requirePwsh(): string {
  const pwsh = findPwsh();
  if (!pwsh) throw new Error(`pwsh (PowerShell 7) is not installed: ${PWSH_INSTALL_HINT}`);
  return pwsh;
}

export function pwshParser(): PowerShellParser {
  return createPowerShellParser({ exec: createExec(), pwsh: requirePwsh() });
}

/** A named PowerShell text, and what the parser said about it. */
export interface ParsedText {
  readonly name: string;
  readonly errors: readonly PowerShellSyntaxError[];
}

/** Parses every text in one pwsh process. */
export async function parseAll(texts: readonly { readonly name: string; readonly text: string }[]): Promise<ParsedText[]> {
  const errors = await pwshParser().parse(texts.map((t) => t.text));
  return texts.map((t, i) => ({ name: t.name, errors: errors[i] ?? [] }));
}

/** "line:col errorId message" per error, for assertion messages a reader can act on. */
export function describeErrors(errors: readonly PowerShellSyntaxError[]): string[] {
  return errors.map((e) => `${e.line}:${e.column} ${e.errorId} ${e.message}`);
}
