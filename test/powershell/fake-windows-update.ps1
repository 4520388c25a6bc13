# A fake Windows Update Agent for tests on Linux, prepended to the generated update script. It
# answers New-Object -ComObject like Windows does (Microsoft.Update.Session, Microsoft.Update.UpdateColl;
# shapes from https://learn.microsoft.com/windows/win32/api/wuapi/) and keeps what the guest offers
# and has installed in the JSON file $env:REBAKE_FAKE_WUA, so it survives the runner's "reboots":
# { "offered": ["1"], "unlocks": { "1": ["2"] }, "installed": [] }: installing KB1 makes KB2 applicable.
function New-Object {
  param([string]$ComObject, [string]$TypeName)
  switch ($ComObject) {
    'Microsoft.Update.UpdateColl' {
      $collection = [pscustomobject]@{ Items = [System.Collections.Generic.List[object]]::new() }
      $collection | Add-Member ScriptMethod Add { param($item) $this.Items.Add($item); $this.Items.Count - 1 }
      $collection | Add-Member ScriptProperty Count { $this.Items.Count }
      return $collection
    }
    'Microsoft.Update.Session' {
      $session = [pscustomobject]@{}
      $session | Add-Member ScriptMethod CreateUpdateSearcher {
        $searcher = [pscustomobject]@{}
        $searcher | Add-Member ScriptMethod Search {
          param([string]$criteria)
          $state = Get-Content -Raw $env:REBAKE_FAKE_WUA | ConvertFrom-Json
          $pending = @($state.offered | Where-Object { @($state.installed) -notcontains $_ } | ForEach-Object {
            $update = [pscustomobject]@{ Title = "KB$_"; KBArticleIDs = @($_); Categories = @([pscustomobject]@{ CategoryID = 'CD5FFD1E-E932-4E3A-BF74-18BF0B1BBD83'; Name = 'Updates' }); EulaAccepted = $true }
            $update | Add-Member ScriptMethod AcceptEula { $this.EulaAccepted = $true }
            $update
          })
          [pscustomobject]@{ Updates = $pending }
        }
        $searcher
      }
      $session | Add-Member ScriptMethod CreateUpdateDownloader {
        $downloader = [pscustomobject]@{ Updates = $null }
        $downloader | Add-Member ScriptMethod Download { [pscustomobject]@{ ResultCode = 2 } }
        $downloader
      }
      $session | Add-Member ScriptMethod CreateUpdateInstaller {
        $installer = [pscustomobject]@{ Updates = $null }
        $installer | Add-Member ScriptMethod Install {
          $state = Get-Content -Raw $env:REBAKE_FAKE_WUA | ConvertFrom-Json
          $installed = [System.Collections.Generic.List[string]]@($state.installed)
          $offered = [System.Collections.Generic.List[string]]@($state.offered)
          foreach ($update in $this.Updates.Items) {
            $kb = $update.KBArticleIDs[0]
            $installed.Add($kb)
            foreach ($next in @($state.unlocks.$kb)) { if ($next) { $offered.Add($next) } }
          }
          @{ offered = $offered.ToArray(); unlocks = $state.unlocks; installed = $installed.ToArray() } | ConvertTo-Json -Depth 4 | Set-Content $env:REBAKE_FAKE_WUA
          [pscustomobject]@{ ResultCode = 2; RebootRequired = $true }
        }
        $installer
      }
      return $session
    }
    default { throw "the fake Windows has no COM class '$ComObject'" }
  }
}
