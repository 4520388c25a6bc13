/**
 * Generates a PowerShell module of stub cmdlets from a cmdlet table (cmdlet-spec.ts). Each stub is
 * an advanced function with exactly the table's parameters and parameter sets, so PowerShell's own
 * binder refuses an unknown parameter, a missing mandatory one, a mix of parameter sets, a
 * positional argument the reference does not give a position, a value of the wrong type and a
 * string over the reference's Max Length; a required group or a resolution left out is refused
 * with the vendor's error code. Every accepted call is appended as one JSON line to the file named
 * by $env:REBAKE_STUB_LOG; what a call returns (objects, or an error) comes from the JSON file
 * named by $env:REBAKE_STUB_RESPONSES.
 *
 * Responses file: { "<cmdlet>": [response, ...] }, one response per call in order, the last one
 * repeating; a response is { "returns": [...] } or { "error": { "code", "message", "terminating" } }.
 * Returned values are cast to the type the table says the cmdlet returns (a task id is a [guid]).
 * Errors are raised as the PVS reference describes them: an exception whose InnerException is an
 * EAException with a returnCode (docs/index.md "Error Handling"). The Citrix SDK references of the
 * MCS cmdlets name their error codes but not their exception types, so no MCS test makes a stub fail.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { powershellElementType, powershellType, type CmdletParameter, type CmdletSpec } from "./cmdlet-spec.ts";

export const STUB_LOG_ENV = "REBAKE_STUB_LOG";
export const STUB_RESPONSES_ENV = "REBAKE_STUB_RESPONSES";

export interface StubModuleSpec {
  /** The module name, also its folder under a PSModulePath entry. */
  readonly name: string;
  /** Where the table was read from, written into the module's header. */
  readonly source: string;
  readonly cmdlets: readonly CmdletSpec[];
  /** Error codes the stub raises when it refuses a call itself; needed when a cmdlet has required groups or resolutions. */
  readonly refusals?: { readonly groupMissing: StubError; readonly resolutionMissing: StubError };
}

interface StubError {
  readonly code: number;
  readonly message: string;
}

/** A table the generator cannot honour: a stub that silently accepted what the vendor refuses would be worse than none. */
export class StubTableError extends Error {}

const psString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** One [Parameter()] per parameter set it belongs to (one without a set name: every set). */
function parameterDeclaration(param: CmdletParameter): string {
  const attributes = (set: string | undefined) => [
    ...(param.mandatory ? ["Mandatory = $true"] : []),
    ...(set ? [`ParameterSetName = ${psString(set)}`] : []),
    ...(param.position !== undefined ? [`Position = ${param.position}`] : []),
    ...(param.pipeline ? ["ValueFromPipeline = $true"] : []),
  ];
  const parameter = (param.sets ?? [undefined]).map((set) => `[Parameter(${attributes(set).join(", ")})]`).join(" ");
  const alias = param.aliases?.length ? ` [Alias(${param.aliases.map(psString).join(", ")})]` : "";
  const length = param.maxLength !== undefined ? ` [ValidateLength(0, ${param.maxLength})]` : "";
  return `    ${parameter}${alias}${length} [${powershellType(param.type)}] $${param.name}`;
}

function stubFunction(spec: CmdletSpec): string {
  const binding = `[CmdletBinding(PositionalBinding = $false${spec.defaultSet ? `, DefaultParameterSetName = ${psString(spec.defaultSet)}` : ""})]`;
  return [
    `# ${spec.section}`,
    `function ${spec.name} {`,
    `  ${binding}`,
    "  param(",
    spec.parameters.map(parameterDeclaration).join(",\n"),
    "  )",
    `  process { Invoke-StubCall -Caller $PSCmdlet -Name ${psString(spec.name)} -Bound $PSBoundParameters }`,
    "}",
  ].join("\n");
}

/** What the runtime checks beyond the binder, and the type each return is cast to (null: a vendor object, as given). */
function rules(cmdlets: readonly CmdletSpec[]): string {
  const returns = (spec: CmdletSpec) => (spec.returns ?? []).map((r) => ({ cast: powershellElementType(r.type) === "object" ? null : powershellElementType(r.type), when: r.when ?? null }));
  const table = Object.fromEntries(cmdlets.map((c) => [c.name, { requiredOneOf: c.requiredOneOf ?? [], resolutions: c.resolutions ?? {}, objectParameter: c.objectParameter ?? null, returns: returns(c) }]));
  return JSON.stringify(table);
}

function checkTable(module: StubModuleSpec): void {
  const problems = module.cmdlets.flatMap((c) => {
    const names = new Set(c.parameters.map((param) => param.name));
    const sets = new Set(c.parameters.flatMap((param) => param.sets ?? []));
    return [
      ...(c.defaultSet !== undefined && !sets.has(c.defaultSet) ? [`${c.name}'s default parameter set ${c.defaultSet} has no parameter`] : []),
      ...((c.requiredOneOf?.length || Object.keys(c.resolutions ?? {}).length) && !module.refusals ? [`${c.name} has required groups or resolutions but module ${module.name} gives no refusal error codes`] : []),
      ...(c.returns ?? []).filter((r) => r.when !== undefined && !names.has(r.when)).map((r) => `${c.name} returns ${r.type} when -${r.when}, which it does not have`),
    ];
  });
  if (problems.length) throw new StubTableError(problems.join("\n"));
}

const RUNTIME = String.raw`
class EAException : System.Exception {
  [int] $returnCode
  EAException([int] $code, [string] $message) : base($message) { $this.returnCode = $code }
}

class PvsException : System.Exception {
  PvsException([System.Exception] $inner) : base($inner.Message, $inner) {}
}

$script:CallCount = @{}

# A compiled cmdlet's non-terminating error obeys the caller's $ErrorActionPreference; a module
# function's would obey the module's, so the caller's is read from its session state.
function Stop-StubCall([System.Management.Automation.PSCmdlet] $Caller, [int] $Code, [string] $Message, [bool] $Terminating = $true) {
  $record = [System.Management.Automation.ErrorRecord]::new([PvsException]::new([EAException]::new($Code, $Message)), "Pvs$Code", 'InvalidOperation', $null)
  $callerStops = $Caller.SessionState.PSVariable.GetValue('ErrorActionPreference') -eq 'Stop'
  if ($Terminating -or $callerStops) { $Caller.ThrowTerminatingError($record) } else { $Caller.WriteError($record) }
}

function ConvertTo-StubValue($value) {
  if ($value -is [System.Management.Automation.SwitchParameter]) { return $value.IsPresent }
  if ($value -is [guid]) { return $value.ToString() }
  if ($value -is [datetime]) { return $value.ToString('o') }
  if ($value -is [array]) { return ,@($value | ForEach-Object { ConvertTo-StubValue $_ }) }
  return $value
}

function Invoke-StubCall([System.Management.Automation.PSCmdlet] $Caller, [string] $Name, [System.Collections.IDictionary] $Bound) {
  $rule = $script:Rules.$Name
  $given = @($Bound.Keys)
  $byObject = ($given -contains 'Object') -or ($rule.objectParameter -and ($given -contains $rule.objectParameter))
  if (-not $byObject) {
    foreach ($group in @($rule.requiredOneOf)) {
      if (-not @($group | Where-Object { $given -contains $_ })) {
        Stop-StubCall $Caller $script:GroupMissing.code ($script:GroupMissing.message.Replace('[v1]', $group[0]).Replace('[v2]', (@($group | Select-Object -Skip 1) -join ' or ')))
      }
    }
  }
  foreach ($resolution in $rule.resolutions.PSObject.Properties) {
    if ($given -notcontains $resolution.Name) { continue }
    foreach ($group in @($resolution.Value)) {
      if (-not @($group | Where-Object { $given -contains $_ })) {
        Stop-StubCall $Caller $script:ResolutionMissing.code ($script:ResolutionMissing.message.Replace('[v1]', $resolution.Name).Replace('[v2]', $group[0]).Replace('[v3]', $group[1]))
      }
    }
  }
  $parameters = [ordered]@{}
  foreach ($key in $Bound.Keys) { $parameters[$key] = ConvertTo-StubValue $Bound[$key] }
  Add-Content -LiteralPath $env:REBAKE_STUB_LOG -Encoding utf8 -Value ([ordered]@{ cmdlet = $Name; parameters = $parameters } | ConvertTo-Json -Compress -Depth 8)

  $responses = @()
  if ($env:REBAKE_STUB_RESPONSES) {
    $all = Get-Content -Raw -LiteralPath $env:REBAKE_STUB_RESPONSES | ConvertFrom-Json
    $named = @($all.PSObject.Properties | Where-Object { $_.Name -eq $Name })
    if ($named) { $responses = @($named[0].Value) }
  }
  $index = [int]$script:CallCount[$Name]
  $script:CallCount[$Name] = $index + 1
  if ($responses.Count -eq 0) { return }
  $response = $responses[[Math]::Min($index, $responses.Count - 1)]
  if (@($response.PSObject.Properties | Where-Object { $_.Name -eq 'error' })) {
    Stop-StubCall $Caller $response.error.code $response.error.message ([bool]$response.error.terminating)
    return
  }
  $returned = @($rule.returns | Where-Object { -not $_.when -or ($given -contains $_.when) } | Select-Object -First 1)
  $cast = if ($returned) { $returned[0].cast } else { $null }
  # ConvertTo throws on a value the declared type cannot hold: a test that made the stub return it is wrong.
  foreach ($item in @($response.returns)) { if ($cast) { [System.Management.Automation.LanguagePrimitives]::ConvertTo($item, [type]$cast) } else { $item } }
}
`;

export function stubModuleSource(module: StubModuleSpec): { psm1: string; psd1: string } {
  checkTable(module);
  const functions = module.cmdlets.map((c) => c.name);
  const psm1 = [
    `# Generated by test/support/powershell-stub.ts from ${module.source}: stubs that refuse what the real cmdlets refuse and record every call.`,
    "Set-StrictMode -Version 3",
    "# Errors inside the stubs themselves are bugs of the stub: stop at once.",
    "$ErrorActionPreference = 'Stop'",
    `$script:Rules = ConvertFrom-Json ${psString(rules(module.cmdlets))}`,
    `$script:GroupMissing = ConvertFrom-Json ${psString(JSON.stringify(module.refusals?.groupMissing ?? null))}`,
    `$script:ResolutionMissing = ConvertFrom-Json ${psString(JSON.stringify(module.refusals?.resolutionMissing ?? null))}`,
    RUNTIME,
    ...module.cmdlets.map(stubFunction),
    `Export-ModuleMember -Function ${functions.map(psString).join(", ")}`,
    "",
  ].join("\n");
  const psd1 = [
    "@{",
    `  RootModule = '${module.name}.psm1'`,
    "  ModuleVersion = '0.0.1'",
    "  GUID = '6f0c2a8e-5d1b-4c1e-9a57-3e2b7d9c4f10'",
    `  FunctionsToExport = @(${functions.map(psString).join(", ")})`,
    "  CmdletsToExport = @()",
    "  VariablesToExport = @()",
    "  AliasesToExport = @()",
    "}",
    "",
  ].join("\n");
  return { psm1, psd1 };
}

/** Writes the module under `root` (a PSModulePath entry); returns its folder. */
export async function writeStubModule(root: string, module: StubModuleSpec): Promise<string> {
  const dir = path.join(root, module.name);
  await mkdir(dir, { recursive: true });
  const { psm1, psd1 } = stubModuleSource(module);
  await writeFile(path.join(dir, `${module.name}.psm1`), psm1);
  await writeFile(path.join(dir, `${module.name}.psd1`), psd1);
  return dir;
}
