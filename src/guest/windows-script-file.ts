/**
 * Running a Windows script from a temp file, in PowerShell: the SSH channel's bootstrap does it
 * for every Windows script, and a cmd step with secret environment variables does it for its
 * batch text. A file, not a command line: `exit N` then means what it means in a script file, and
 * cmd.exe reads a batch file line by line instead of parsing one command line.
 */

/**
 * PowerShell lines that write the text held in `$script` to a temp file of the shell's kind, run
 * it, remove the file however the run ends, and exit with the script's exit code.
 */
export function runFromTempFile(shell: "powershell" | "cmd"): string[] {
  const extension = shell === "powershell" ? ".ps1" : ".cmd";
  // .ps1 with a BOM so Windows PowerShell 5.1 reads it as UTF-8; .cmd in the ANSI code page cmd.exe expects.
  const encoding = shell === "powershell" ? "(New-Object Text.UTF8Encoding $true)" : "[Text.Encoding]::Default";
  const run = shell === "powershell" ? "& $file" : "& cmd.exe /d /c $file";
  return [
    `$file = Join-Path $env:TEMP ('rebake-' + [guid]::NewGuid().ToString() + '${extension}')`,
    `[IO.File]::WriteAllText($file, $script, ${encoding})`,
    "$global:LASTEXITCODE = 0",
    `try { ${run} } catch { [Console]::Error.WriteLine($_); $global:LASTEXITCODE = 1 } finally { Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue }`,
    "exit $LASTEXITCODE",
  ];
}
