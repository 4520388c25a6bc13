/**
 * A PowerShell module of stub Citrix SDK cmdlets generated from a cmdlet table taken from Citrix's
 * reference (test/contracts/citrix-mcs-cmdlets.ts). Each stub is an advanced function with exactly
 * the documented parameters and parameter sets, so PowerShell's own binder refuses an unknown
 * parameter, a missing mandatory one (non-interactive) or a mix of sets, as the real snap-in would.
 * Each call is recorded in $global:RebakeCalls; what a stub answers is the test's `behaviour`.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { CmdletSpec } from "../contracts/citrix-mcs-cmdlets.ts";

const PS_TYPES: Record<string, string> = { string: "[string]", "string[]": "[string[]]", int: "[int]", bool: "[bool]", guid: "[guid]", switch: "[switch]", object: "[object]" };
const CALLS_MARKER = "REBAKE-CALLS ";

export interface RecordedCall {
  readonly cmdlet: string;
  readonly parameters: Record<string, unknown>;
}

function parameterBlock(spec: CmdletSpec): string {
  return spec.parameters
    .map((p) => {
      const common = [...(p.valueFromPipeline ? ["ValueFromPipeline=$true"] : [])];
      const attributes = p.sets
        ? Object.entries(p.sets).map(([set, mandatory]) => `[Parameter(${[`Mandatory=$${mandatory}`, `ParameterSetName='${set}'`, ...(p.position !== undefined ? [`Position=${p.position}`] : []), ...common].join(", ")})]`)
        : [`[Parameter(${[...(p.position !== undefined ? [`Position=${p.position}`] : []), ...common].join(", ")})]`];
      return `    ${attributes.join("\n    ")}\n    ${PS_TYPES[p.type]}$${p.name}`;
    })
    .join(",\n");
}

/** The module text: one advanced function per cmdlet, `behaviours` giving each one's answer. */
export function stubModule(cmdlets: readonly CmdletSpec[], behaviours: Readonly<Record<string, string>>): string {
  const functions = cmdlets.map((spec) => [
    `# ${spec.source}`,
    `function ${spec.name} {`,
    `  [CmdletBinding(${spec.defaultSet ? `DefaultParameterSetName='${spec.defaultSet}'` : ""})]`,
    "  param(",
    parameterBlock(spec),
    "  )",
    "  process {",
    `    Add-RebakeCall '${spec.name}' $PSBoundParameters`,
    `    ${behaviours[spec.name] ?? ""}`,
    "  }",
    "}",
  ].join("\n"));
  return [
    "$global:RebakeCalls = [System.Collections.Generic.List[object]]::new()",
    "function Add-RebakeCall([string]$cmdlet, $bound) {",
    "  $parameters = [ordered]@{}",
    "  foreach ($key in $bound.Keys) {",
    "    $value = $bound[$key]",
    "    if ($value -is [System.Management.Automation.SwitchParameter]) { $value = $value.IsPresent }",
    "    elseif ($value -is [guid]) { $value = $value.ToString() }",
    "    elseif ($value -is [psobject] -and $value.PSObject.Properties['Name']) { $value = 'catalog:' + $value.Name }",
    "    $parameters[$key] = $value",
    "  }",
    "  $global:RebakeCalls.Add([ordered]@{ cmdlet = $cmdlet; parameters = $parameters })",
    "}",
    // Add-PSSnapin is Windows PowerShell 5.1's (Microsoft.PowerShell.Core): -Name <String[]> (mandatory), -PassThru.
    "function Add-PSSnapin {",
    "  [CmdletBinding()]",
    "  param([Parameter(Mandatory=$true, Position=0)][string[]]$Name, [switch]$PassThru)",
    "  Add-RebakeCall 'Add-PSSnapin' $PSBoundParameters",
    "}",
    ...functions,
    "",
  ].join("\n");
}

export interface StubRun {
  readonly calls: RecordedCall[];
  readonly stdout: string;
  /** The error the script ended with, if it threw. */
  readonly error?: string;
}

/** Runs `script` in real pwsh with the stub module loaded, and returns the calls it made. */
export async function runWithStubs(pwsh: string, module: string, script: string, prelude = ""): Promise<StubRun> {
  const dir = await mkdtemp(path.join(tmpdir(), "rebake-stubs-"));
  try {
    await writeFile(path.join(dir, "CitrixStubs.psm1"), module);
    await writeFile(path.join(dir, "script.ps1"), script);
    await writeFile(
      path.join(dir, "harness.ps1"),
      [
        `Import-Module '${path.join(dir, "CitrixStubs.psm1")}'`,
        prelude,
        "try { & '" + path.join(dir, "script.ps1") + "' } catch { Write-Output ('REBAKE-ERROR ' + $_.Exception.Message) }",
        `finally { Write-Output ('${CALLS_MARKER}' + (ConvertTo-Json -InputObject @($global:RebakeCalls) -Depth 6 -Compress)) }`,
      ].join("\n"),
    );
    const { stdout } = await promisify(execFile)(pwsh, ["-NoProfile", "-NonInteractive", "-File", path.join(dir, "harness.ps1")], { timeout: 60_000 });
    const line = (prefix: string) => stdout.split("\n").find((l) => l.startsWith(prefix))?.slice(prefix.length).trim();
    const error = line("REBAKE-ERROR ");
    return { calls: JSON.parse(line(CALLS_MARKER) ?? "[]") as RecordedCall[], stdout, ...(error ? { error } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
