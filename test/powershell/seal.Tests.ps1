# The Windows seal commands (src/recipe/seal-commands.ts), run on Linux with pwsh: services,
# registry, files, wevtutil, ipconfig and sysprep are mocked or replaced by recording stand-ins.
param([Parameter(Mandatory)][string]$Scripts)

BeforeAll {
  # State the fakes share lives in $global:Rebake*: $script: inside a mock or fake called from the
  # generated script means that script's scope, not this file's.
  function Get-Seal([string]$Name) { Join-Path $Scripts "seal-$Name.ps1" }
  # Stand-ins for Windows programs and Windows-only cmdlets, so Pester can mock them by name.
  function Stop-Service { param([string[]]$Name, [switch]$Force) throw 'Stop-Service must be mocked' }
  function wevtutil.exe { throw 'wevtutil.exe must be mocked' }
  function ipconfig.exe { throw 'ipconfig.exe must be mocked' }
  function Dism.exe { throw 'Dism.exe must be mocked' }
  # Pester cannot mock a command named by a full path; this function records the call instead.
  Set-Item -LiteralPath 'function:C:\Windows\System32\Sysprep\sysprep.exe' -Value {
    $global:RebakeSysprep.Add($args -join ' ')
    $global:LASTEXITCODE = $global:RebakeSysprepExit
  }

  function Use-Windows {
    Mock Get-ChildItem { [pscustomobject]@{ FullName = 'C:\Windows\Temp\old.log' } }
    Mock Remove-Item { }
    Mock Remove-ItemProperty { }
    Mock Stop-Service { }
    Mock wevtutil.exe { if ($args[0] -eq 'el') { 'Application'; 'System' } }
    Mock ipconfig.exe { }
    Mock Dism.exe { $global:LASTEXITCODE = 0 }
    $global:RebakeSysprep = [System.Collections.Generic.List[string]]::new()
    $global:RebakeSysprepExit = 0
  }

  function Invoke-Seal([string]$Name) { & (Get-Seal $Name) *> $null; $LASTEXITCODE }
}

Describe 'Seal (on Linux, Windows-only commands mocked)' {
  BeforeEach { Use-Windows }

  It 'temp: empties the temp folders but keeps rebake''s own uploads for the last seal command' {
    Invoke-Seal 'cleanup-temp'
    Should -Invoke Get-ChildItem -Times 1 -Exactly -ParameterFilter { $Exclude -contains 'rebake' -and $Path -contains 'C:\Windows\Temp' }
    Should -Invoke Remove-Item -Times 1 -ParameterFilter { $Recurse -and $Force }
  }

  It 'windows-update-cache: stops wuauserv and BITS, then empties SoftwareDistribution\Download' {
    Invoke-Seal 'cleanup-windows-update-cache'
    Should -Invoke Stop-Service -Times 1 -Exactly -ParameterFilter { ($Name -join ',') -eq 'wuauserv,bits' }
    Should -Invoke Remove-Item -Times 1 -Exactly -ParameterFilter { $Path -contains 'C:\Windows\SoftwareDistribution\Download\*' -and $Recurse }
  }

  It 'event-logs: clears every log wevtutil lists' {
    Invoke-Seal 'cleanup-event-logs'
    Should -Invoke wevtutil.exe -Times 1 -Exactly -ParameterFilter { $args[0] -eq 'cl' -and $args[1] -eq 'Application' }
    Should -Invoke wevtutil.exe -Times 1 -Exactly -ParameterFilter { $args[0] -eq 'cl' -and $args[1] -eq 'System' }
  }

  It 'component-store: runs DISM''s component cleanup with /ResetBase' {
    Invoke-Seal 'cleanup-component-store'
    Should -Invoke Dism.exe -Times 1 -Exactly -ParameterFilter { ($args -join ' ') -eq '/Online /Cleanup-Image /StartComponentCleanup /ResetBase' }
  }

  It 'every Citrix master: removes the Windows Update client id (SusClientId) so clones do not share it, and flushes DNS' {
    Invoke-Seal 'citrix-cleanup'
    Should -Invoke Remove-ItemProperty -Times 1 -Exactly -ParameterFilter {
      $Path -eq 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate' -and ($Name -join ',') -eq 'SusClientId,SusClientIdValidation'
    }
    Should -Invoke ipconfig.exe -Times 1 -Exactly -ParameterFilter { $args[0] -eq '/flushdns' }
  }

  It 'generalize: sysprep /generalize /oobe /quit /mode:vm and its exit code <code> is the step''s' -ForEach @(@{ code = 0 }, @{ code = 1 }) {
    $global:RebakeSysprepExit = $code
    Invoke-Seal 'generalize' | Should -Be $code
    $global:RebakeSysprep | Should -Be @('/generalize /oobe /quit /mode:vm')
  }

  It 'the last command removes rebake''s upload folder' {
    Invoke-Seal 'remove-uploads'
    Should -Invoke Remove-Item -Times 1 -Exactly -ParameterFilter { $Path -contains 'C:\Windows\Temp\rebake' -and $Recurse -and $Force }
  }
}

AfterAll { Remove-Variable -Scope Global -Name RebakeSysprep, RebakeSysprepExit -ErrorAction SilentlyContinue }
