#!/usr/bin/env bash
# Installs what the tests run Windows guest logic with: PowerShell 7 (pwsh) as a .NET global tool,
# and the Pester test framework from NuGet into pwsh's per-user module path. Idempotent and quiet
# when both are there, so scripts/test.sh calls it every time.
#
# The tests parse every PowerShell text rebake generates or ships with PowerShell's own parser and
# run the Windows install wrapper, update loop and seal under Pester (Windows-only cmdlets mocked);
# `rebake validate` uses pwsh, when present, to parse recipes' PowerShell steps.
#
# Needs the .NET SDK (`dotnet`). Without it: install PowerShell from Microsoft's packages
# (https://learn.microsoft.com/powershell/scripting/install/installing-powershell-on-linux), and
# Pester with `Install-Module Pester -RequiredVersion 6.2.0` (PowerShell Gallery) or by unzipping
# https://www.nuget.org/api/v2/package/Pester/6.2.0 and copying its tools/ folder to
# <first PSModulePath entry>/Pester/6.2.0.
set -euo pipefail
readonly PWSH_VERSION=7.6.9
readonly PESTER_VERSION=6.2.0
readonly DOTNET_TOOLS="${DOTNET_CLI_HOME:-$HOME}/.dotnet/tools"
# A first dotnet run on a fresh machine would otherwise print its welcome and make a dev certificate.
export DOTNET_NOLOGO=1 DOTNET_GENERATE_ASPNET_CERTIFICATE=false

find_pwsh() {
  command -v pwsh 2>/dev/null || { [ -x "$DOTNET_TOOLS/pwsh" ] && echo "$DOTNET_TOOLS/pwsh"; } || true
}

no_dotnet() {
  echo "install-powershell: $1 is missing and the .NET SDK (dotnet) is not installed." >&2
  sed -n '/^# Needs the .NET SDK/,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}/  /' >&2
  exit 1
}

pwsh=$(find_pwsh)
if [ -z "$pwsh" ]; then
  command -v dotnet >/dev/null || no_dotnet "PowerShell $PWSH_VERSION"
  echo "installing PowerShell $PWSH_VERSION (dotnet tool install --global PowerShell)"
  # Later PowerShell versions may need a newer .NET than the SDK here; this one is pinned.
  dotnet tool install --global PowerShell --version "$PWSH_VERSION" >/dev/null
  pwsh="$DOTNET_TOOLS/pwsh"
fi

# One pwsh start answers both questions: is Pester there, and where do per-user modules go.
mapfile -t answer < <("$pwsh" -NoLogo -NoProfile -NonInteractive -Command "
  [bool](Get-Module -ListAvailable -Name Pester | Where-Object Version -eq '$PESTER_VERSION')
  (\$env:PSModulePath -split [IO.Path]::PathSeparator)[0]")
[ "${answer[0]:-}" = "True" ] && exit 0
modules="${answer[1]:?pwsh printed no module path}"

command -v dotnet >/dev/null || no_dotnet "Pester $PESTER_VERSION"
echo "installing Pester $PESTER_VERSION from NuGet into $modules"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The nuget.org Pester package is laid out for Chocolatey (the module is its tools/ folder), so
# Install-PSResource from a NuGet feed does not yield an importable module. A throwaway project
# with PackageDownload has dotnet fetch and verify it through the user's NuGet configuration.
tfm="net$(dotnet --version | cut -d. -f1).0"
cat > "$work/fetch.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>$tfm</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$PESTER_VERSION]" /></ItemGroup>
</Project>
EOF
dotnet restore "$work/fetch.csproj" --packages "$work/packages" >/dev/null
source="$work/packages/pester/$PESTER_VERSION/tools"
[ -f "$source/Pester.psd1" ] || { echo "install-powershell: the Pester package has no tools/Pester.psd1" >&2; exit 1; }
mkdir -p "$modules/Pester"
# Copy under a temporary name, then rename: an interrupted run leaves no half module behind.
staging="$modules/Pester/.$PESTER_VERSION.partial"
rm -rf "$staging"
cp -r "$source" "$staging"
rm -rf "${modules:?}/Pester/$PESTER_VERSION"
mv "$staging" "$modules/Pester/$PESTER_VERSION"
