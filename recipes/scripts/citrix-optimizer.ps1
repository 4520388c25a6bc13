# VDI optimisations in the spirit of the Citrix Optimizer templates: work a non-persistent
# desktop never benefits from, but that costs every session CPU, disk and logon time.
$ErrorActionPreference = 'Stop'
foreach ($task in '\Microsoft\Windows\Defrag\ScheduledDefrag',
                  '\Microsoft\Windows\Maintenance\WinSAT',
                  '\Microsoft\Windows\Windows Error Reporting\QueueReporting') {
  $path = Split-Path $task -Parent
  $name = Split-Path $task -Leaf
  Get-ScheduledTask -TaskPath "$path\" -TaskName $name -ErrorAction SilentlyContinue | Disable-ScheduledTask | Out-Null
}
# SysMain prefetches for a disk that is reset at every reboot.
Set-Service -Name SysMain -StartupType Disabled
