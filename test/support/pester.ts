/**
 * Runs Pester test files in one pwsh process and returns each Pester test's outcome, so a node
 * test can report every one of them (and fail with its message). Pester 6.2.0 comes from
 * scripts/install-powershell.sh.
 */
import { createExec } from "../../src/util/exec.ts";
import { requirePwsh } from "./powershell.ts";

export const PESTER_VERSION = "6.2.0";

export interface PesterOutcome {
  /** Describe, Context and It names joined with dots, parameters expanded. */
  readonly name: string;
  /** The outermost Describe; the file's name for a file that failed before its tests. */
  readonly describe: string;
  readonly result: "Passed" | "Failed" | "Skipped" | "NotRun" | "Inconclusive";
  readonly error: string;
}

/** Pester on a loaded machine: a generous bound, still far below a hang. */
const PESTER_TIMEOUT_MS = 600_000;

/**
 * Runs the files with `data` as each file's parameters; a file that fails before its tests
 * (a BeforeAll that throws, a parse error) comes back as one failed outcome named after the file.
 */
export async function runPester(files: readonly string[], data: Readonly<Record<string, string>>): Promise<PesterOutcome[]> {
  const request = JSON.stringify({ files, data });
  const script = String.raw`
$ErrorActionPreference = 'Stop'
$request = [Console]::In.ReadToEnd() | ConvertFrom-Json -AsHashtable
Import-Module Pester -RequiredVersion ${PESTER_VERSION}
$config = New-PesterConfiguration
$config.Run.Container = @($request.files | ForEach-Object { New-PesterContainer -Path $_ -Data $request.data })
$config.Run.PassThru = $true
$config.Output.Verbosity = 'None'
$run = Invoke-Pester -Configuration $config
$outcomes = [System.Collections.Generic.List[object]]::new()
foreach ($container in $run.Containers) {
  if ($container.Result -eq 'Failed' -and $container.ErrorRecord.Count -gt 0) {
    $outcomes.Add([ordered]@{ name = "$($container.Item)"; describe = "$($container.Item)"; result = 'Failed'; error = ($container.ErrorRecord | ForEach-Object { "$_" }) -join [Environment]::NewLine })
  }
}
foreach ($test in $run.Tests) {
  $outcomes.Add([ordered]@{ name = $test.ExpandedPath; describe = $test.Path[0]; result = "$($test.Result)"; error = ($test.ErrorRecord | ForEach-Object { "$_" }) -join [Environment]::NewLine })
}
[Console]::Out.Write((ConvertTo-Json -InputObject $outcomes.ToArray() -Depth 3 -Compress))
`;
  const { stdout } = await createExec()(requirePwsh(), ["-NoLogo", "-NoProfile", "-NonInteractive", "-Command", script], {
    input: request,
    timeoutMs: PESTER_TIMEOUT_MS,
  });
  return JSON.parse(stdout) as PesterOutcome[];
}
