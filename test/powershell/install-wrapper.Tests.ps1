# The Windows install wrapper (src/recipe/windows-reboot-check.ts), run on Linux with pwsh: the
# registry reads (Test-Path, Get-ItemProperty on HKLM:) and the cmd.exe process are mocked.
param([Parameter(Mandatory)][string]$Scripts)

BeforeAll {
  # State the fakes share lives in $global:Rebake*: $script: inside a mock or fake called from the
  # generated script would mean that script's scope, not this file's.
  $commandLine = Get-Content -Raw (Join-Path $Scripts 'install-wrapper.command.txt')
  $cbs = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
  $wu = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
  # Defined so Pester can mock it: on Windows the wrapper's own definition starts cmd.exe.
  function Start-Installer { param([string]$CommandLine) throw 'Start-Installer must be mocked' }

  # A guest whose pending-reboot markers change when the installer runs.
  function Use-Guest([int]$ExitCode, [string[]]$KeysBefore = @(), [string[]]$KeysAfter = @(), [int]$RenamesBefore = 0, [int]$RenamesAfter = 0) {
    $global:RebakeGuest = @{ ExitCode = $ExitCode; Installed = $false; Before = @{ Markers = $KeysBefore; Renames = $RenamesBefore }; After = @{ Markers = $KeysAfter; Renames = $RenamesAfter } }
    Mock Start-Installer { $global:RebakeGuest.Installed = $true; $global:RebakeGuest.ExitCode }
    Mock Test-Path { $LiteralPath -in (Get-GuestState).Markers } -ParameterFilter { $LiteralPath -like 'HKLM:*' }
    Mock Get-ItemProperty {
      $count = (Get-GuestState).Renames
      if ($count -gt 0) { [pscustomobject]@{ PendingFileRenameOperations = [string[]](1..$count | ForEach-Object { "\??\C:\f$_" }) } }
    } -ParameterFilter { $LiteralPath -eq 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -and $Name -eq 'PendingFileRenameOperations' }
  }

  function Get-GuestState { if ($global:RebakeGuest.Installed) { $global:RebakeGuest.After } else { $global:RebakeGuest.Before } }

  function Invoke-Wrapper { & (Join-Path $Scripts 'install-wrapper.ps1') *> $null; $LASTEXITCODE }
}

Describe 'Windows install wrapper (on Linux, registry and cmd.exe mocked)' {
  It 'passes the command line to cmd.exe exactly as the recipe wrote it' {
    Use-Guest -ExitCode 0
    Invoke-Wrapper | Should -Be 0
    Should -Invoke Start-Installer -Times 1 -Exactly -ParameterFilter { $CommandLine -eq $commandLine }
  }

  It 'passes installer exit code <code> on unchanged (<why>)' -ForEach @(
    @{ code = 3010; why = 'ERROR_SUCCESS_REBOOT_REQUIRED' }
    @{ code = 1641; why = 'the installer started a reboot' }
    @{ code = 3; why = "the VDA's partial success: reboot and run again" }
    @{ code = 8; why = "the VDA's success with a reboot needed" }
    @{ code = 1603; why = 'a fatal MSI error stays a failure' }
  ) {
    Use-Guest -ExitCode $code -KeysAfter @($cbs)
    Invoke-Wrapper | Should -Be $code
  }

  It 'exits 0 after an exit 0 that left no reboot pending' {
    Use-Guest -ExitCode 0
    Invoke-Wrapper | Should -Be 0
  }

  It 'turns exit 0 into 3010 when the install left <what> pending' -ForEach @(
    @{ what = 'a component-based servicing reboot'; keys = @('cbs'); renames = 0 }
    @{ what = 'a Windows Update reboot'; keys = @('wu'); renames = 0 }
    @{ what = 'file renames for the next boot'; keys = @(); renames = 2 }
  ) {
    $after = @($keys | ForEach-Object { if ($_ -eq 'cbs') { $cbs } else { $wu } })
    Use-Guest -ExitCode 0 -KeysAfter $after -RenamesAfter $renames
    Invoke-Wrapper | Should -Be 3010
  }

  It 'does not blame the install for a reboot that was pending before it ran' {
    Use-Guest -ExitCode 0 -KeysBefore @($cbs) -KeysAfter @($cbs) -RenamesBefore 2 -RenamesAfter 2
    Invoke-Wrapper | Should -Be 0
  }

  It 'asks for the reboot when the install added file renames to ones already pending' {
    Use-Guest -ExitCode 0 -RenamesBefore 2 -RenamesAfter 4
    Invoke-Wrapper | Should -Be 3010
  }
}

AfterAll { Remove-Variable -Scope Global -Name RebakeGuest -ErrorAction SilentlyContinue }
