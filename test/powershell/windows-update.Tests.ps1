# The Windows Update step (src/recipe/update-commands.ts), run on Linux with pwsh. The Windows
# Update Agent COM objects are fakes shaped like Microsoft's reference
# (https://learn.microsoft.com/windows/win32/api/wuapi/): IUpdateSession.CreateUpdateSearcher /
# CreateUpdateDownloader / CreateUpdateInstaller, IUpdateSearcher.Search(criteria) -> ISearchResult.Updates,
# IUpdate.KBArticleIDs / Categories[].CategoryID / EulaAccepted / AcceptEula(), IUpdateCollection.Add / Count,
# IUpdateInstaller.Install() -> IInstallationResult.ResultCode (OperationResultCode) / RebootRequired.
param([Parameter(Mandatory)][string]$Scripts)

BeforeAll {
  # State the fakes share lives in $global:Rebake*: $script: inside a mock or fake called from the
  # generated script would mean that script's scope, not this file's.
  $allUpdates = Join-Path $Scripts 'updates-all.ps1'
  $securityUpdates = Join-Path $Scripts 'updates-security.ps1'
  $maxRounds = [int](Get-Content -Raw (Join-Path $Scripts 'updates-max-rounds.txt'))
  # WSUS classification GUIDs (https://learn.microsoft.com/previous-versions/windows/desktop/ff357803(v=vs.85)).
  $security = '0FA1201D-4330-4FA8-8AE9-B877473B6441'
  $critical = 'E6CF1350-C01B-414D-A61F-263D14D133B4'
  $plain = 'CD5FFD1E-E932-4E3A-BF74-18BF0B1BBD83'
  # New-Object has no -ComObject on Linux: this stand-in gives Pester a command to mock.
  function New-Object { param([string]$ComObject, [string]$TypeName) throw "New-Object -ComObject $ComObject must be mocked" }

  function New-FakeUpdate([string]$Kb, [string]$Class = 'CD5FFD1E-E932-4E3A-BF74-18BF0B1BBD83', [string]$ClassName = 'Updates', [string[]]$Unlocks = @()) {
    $update = [pscustomobject]@{ Title = "KB$Kb"; KBArticleIDs = @($Kb); Categories = @([pscustomobject]@{ CategoryID = $Class; Name = $ClassName }); EulaAccepted = $false; Unlocks = $Unlocks }
    $update | Add-Member ScriptMethod AcceptEula { $this.EulaAccepted = $true }
    $update
  }

  function New-FakeCollection {
    $collection = [pscustomobject]@{ Items = [System.Collections.Generic.List[object]]::new() }
    $collection | Add-Member ScriptMethod Add { param($item) $this.Items.Add($item); $this.Items.Count - 1 }
    $collection | Add-Member ScriptProperty Count { $this.Items.Count }
    $collection
  }

  # A guest: what Windows Update offers, what got installed, what the agent was asked.
  function Use-WindowsUpdate([object[]]$Offered = @(), [int]$ResultCode = 2, [switch]$Endless) {
    $global:RebakeWu = @{ Offered = [System.Collections.Generic.List[object]]::new(); Installed = [System.Collections.Generic.List[string]]::new(); Criteria = [System.Collections.Generic.List[string]]::new(); Downloads = 0; ResultCode = $ResultCode; Endless = [bool]$Endless; Next = 9000000 }
    foreach ($update in $Offered) { $global:RebakeWu.Offered.Add($update) }
    $session = [pscustomobject]@{}
    $session | Add-Member ScriptMethod CreateUpdateSearcher {
      $searcher = [pscustomobject]@{}
      $searcher | Add-Member ScriptMethod Search {
        param([string]$criteria)
        $global:RebakeWu.Criteria.Add($criteria)
        if ($global:RebakeWu.Endless) { $global:RebakeWu.Offered.Add((New-FakeUpdate -Kb ($global:RebakeWu.Next++))) }
        $pending = @($global:RebakeWu.Offered | Where-Object { $global:RebakeWu.Installed -notcontains $_.KBArticleIDs[0] })
        [pscustomobject]@{ Updates = $pending }
      }
      $searcher
    }
    $session | Add-Member ScriptMethod CreateUpdateDownloader {
      $downloader = [pscustomobject]@{ Updates = $null }
      $downloader | Add-Member ScriptMethod Download { $global:RebakeWu.Downloads++; [pscustomobject]@{ ResultCode = 2 } }
      $downloader
    }
    $session | Add-Member ScriptMethod CreateUpdateInstaller {
      $installer = [pscustomobject]@{ Updates = $null }
      $installer | Add-Member ScriptMethod Install {
        foreach ($update in $this.Updates.Items) {
          if (-not $update.EulaAccepted) { throw "installing $($update.Title) with its EULA not accepted" }
          if ($global:RebakeWu.ResultCode -lt 4) { $global:RebakeWu.Installed.Add($update.KBArticleIDs[0]) }
          foreach ($next in $update.Unlocks) { $global:RebakeWu.Offered.Add((New-FakeUpdate -Kb $next)) }
        }
        [pscustomobject]@{ ResultCode = $global:RebakeWu.ResultCode; RebootRequired = $true }
      }
      $installer
    }
    $global:RebakeSession = $session
    Mock New-Object { $global:RebakeSession } -ParameterFilter { $ComObject -eq 'Microsoft.Update.Session' }
    Mock New-Object { New-FakeCollection } -ParameterFilter { $ComObject -eq 'Microsoft.Update.UpdateColl' }
  }

  function Invoke-Round([string]$Script = (Join-Path $Scripts 'updates-all.ps1')) { & $Script *> $null; $LASTEXITCODE }

  # What the runner does with the step (rerunCodes [3010], maxRuns = maxRounds): run, reboot on 3010, run again.
  function Invoke-Rounds([string]$Script = (Join-Path $Scripts 'updates-all.ps1')) {
    $codes = @()
    do { $codes += Invoke-Round $Script } while ($codes[-1] -eq 3010 -and $codes.Count -lt $maxRounds)
    $codes
  }
}

Describe 'Windows Update loop (on Linux, Windows Update Agent COM API mocked)' {
  It 'searches for software updates that are neither installed nor hidden' {
    Use-WindowsUpdate
    Invoke-Round | Should -Be 0
    $global:RebakeWu.Criteria | Should -Be @("IsInstalled=0 and IsHidden=0 and Type='Software'")
  }

  It 'exits 0 and installs nothing when the search finds nothing' {
    Use-WindowsUpdate
    Invoke-Round | Should -Be 0
    $global:RebakeWu.Downloads | Should -Be 0
  }

  It 'downloads and installs every update offered, accepting EULAs, then exits 3010 to be rebooted and run again' {
    Use-WindowsUpdate -Offered @((New-FakeUpdate -Kb 5000001), (New-FakeUpdate -Kb 5000002))
    Invoke-Round | Should -Be 3010
    $global:RebakeWu.Installed | Should -Be @('5000001', '5000002')
    $global:RebakeWu.Downloads | Should -Be 1
  }

  It 'repeats until nothing applies: an update that makes another applicable takes a second round, the third finds nothing' {
    Use-WindowsUpdate -Offered @(New-FakeUpdate -Kb 5000010 -Unlocks @('5000011'))
    Invoke-Rounds | Should -Be @(3010, 3010, 0)
    $global:RebakeWu.Installed | Should -Be @('5000010', '5000011')
  }

  It 'installs once per run, so a guest that always offers another update stops after maxRounds runs' {
    Use-WindowsUpdate -Endless
    $codes = Invoke-Rounds
    $codes.Count | Should -Be $maxRounds
    $global:RebakeWu.Installed.Count | Should -Be $maxRounds
  }

  It 'never installs an excluded KB (KB5034439 in the recipe)' {
    Use-WindowsUpdate -Offered @((New-FakeUpdate -Kb 5034439), (New-FakeUpdate -Kb 5000003))
    Invoke-Rounds | Should -Be @(3010, 0)
    $global:RebakeWu.Installed | Should -Be @('5000003')
  }

  It 'exits 0 when only excluded updates are left' {
    Use-WindowsUpdate -Offered @(New-FakeUpdate -Kb 5034439)
    Invoke-Round | Should -Be 0
  }

  It 'security policy: installs Security and Critical Updates by classification GUID, whatever the localised name' {
    Use-WindowsUpdate -Offered @(
      (New-FakeUpdate -Kb 1 -Class $security -ClassName 'Sicherheitsupdates'),
      (New-FakeUpdate -Kb 2 -Class $critical.ToLowerInvariant() -ClassName 'Kritische Updates'),
      (New-FakeUpdate -Kb 3 -Class $plain -ClassName 'Security Updates')
    )
    Invoke-Round $securityUpdates | Should -Be 3010
    $global:RebakeWu.Installed | Should -Be @('1', '2')
  }

  It 'result code <code> (<meaning>) exits <exit>' -ForEach @(
    @{ code = 2; meaning = 'succeeded'; exit = 3010 }
    @{ code = 3; meaning = 'succeeded with errors'; exit = 3010 }
    @{ code = 4; meaning = 'failed'; exit = 1 }
    @{ code = 5; meaning = 'aborted'; exit = 1 }
  ) {
    Use-WindowsUpdate -Offered @(New-FakeUpdate -Kb 5000004) -ResultCode $code
    Invoke-Round | Should -Be $exit
  }
}

AfterAll { Remove-Variable -Scope Global -Name RebakeWu, RebakeSession -ErrorAction SilentlyContinue }
