/**
 * PowerShell's own parser ([System.Management.Automation.Language.Parser]::ParseInput), run in
 * one pwsh process for any number of scripts: pwsh takes about a second to start, so callers
 * batch every text they have instead of starting one process per script.
 */
import type { Exec } from "./exec.ts";

/** One parse error, as PowerShell reports it. */
export interface PowerShellSyntaxError {
  /** 1-based line in the script. */
  readonly line: number;
  /** 1-based column in that line (UTF-16 code units, as .NET counts). */
  readonly column: number;
  /** PowerShell's error id, e.g. `MissingEndCurlyBrace`. */
  readonly errorId: string;
  readonly message: string;
}

export interface PowerShellParser {
  /** The parse errors of each text, in the order given; an empty list means the text parses. */
  parse(texts: readonly string[]): Promise<PowerShellSyntaxError[][]>;
}

export class PowerShellParserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** pwsh may take a while to start on a loaded machine; parsing itself takes milliseconds. */
const PARSE_TIMEOUT_MS = 120_000;

/**
 * Reads a JSON array of strings on stdin, prints one JSON array of every error found. The input
 * is ASCII (see asciiJson), so the console's input encoding cannot garble it.
 */
const PARSE_SCRIPT = String.raw`
$ErrorActionPreference = 'Stop'
$texts = [Console]::In.ReadToEnd() | ConvertFrom-Json -NoEnumerate
$found = [System.Collections.Generic.List[object]]::new()
for ($i = 0; $i -lt $texts.Count; $i++) {
  $tokens = $null; $errors = $null
  [void][System.Management.Automation.Language.Parser]::ParseInput([string]$texts[$i], [ref]$tokens, [ref]$errors)
  foreach ($e in $errors) {
    $found.Add([ordered]@{ index = $i; line = $e.Extent.StartLineNumber; column = $e.Extent.StartColumnNumber; errorId = $e.ErrorId; message = $e.Message })
  }
}
[Console]::Out.Write((ConvertTo-Json -InputObject $found.ToArray() -Compress -Depth 3))
`;

/** Parses with the pwsh at `pwsh` (see findPwsh), through the exec layer. */
export function createPowerShellParser(options: { readonly exec: Exec; readonly pwsh: string }): PowerShellParser {
  return {
    async parse(texts) {
      const results: PowerShellSyntaxError[][] = texts.map(() => []);
      if (texts.length === 0) return results;
      const { stdout } = await options.exec(options.pwsh, ["-NoLogo", "-NoProfile", "-NonInteractive", "-Command", PARSE_SCRIPT], {
        input: asciiJson(texts),
        timeoutMs: PARSE_TIMEOUT_MS,
      });
      let found: unknown;
      try {
        found = JSON.parse(stdout);
      } catch {
        throw new PowerShellParserError(`pwsh printed no parse result: ${stdout.slice(0, 200)}`);
      }
      for (const error of found as readonly (PowerShellSyntaxError & { readonly index: number })[]) {
        const { index, ...rest } = error;
        results[index]?.push(rest);
      }
      return results;
    },
  };
}

/** JSON with every non-ASCII character escaped. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A recording fake: answers each text from a table, records every batch it was given. */
export function createRecordingPowerShellParser(
  answer: (text: string) => readonly PowerShellSyntaxError[] = () => [],
): PowerShellParser & { readonly batches: (readonly string[])[] } {
  const batches: (readonly string[])[] = [];
  return {
    batches,
    async parse(texts) {
      batches.push(texts);
      return texts.map((text) => [...answer(text)]);
    },
  };
}
