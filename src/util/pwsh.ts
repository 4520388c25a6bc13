/**
 * Where PowerShell 7 (`pwsh`) is on this machine. It is found on PATH, or where
 * `dotnet tool install --global PowerShell` puts it (~/.dotnet/tools), which is not on PATH
 * until the user adds it: scripts/install-powershell.sh installs it there.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** How the lookup sees the machine; the defaults are the real environment and filesystem. */
export interface PwshLookup {
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  /** True when `path` is a file this process may execute. */
  readonly isExecutable?: (path: string) => boolean;
}

/** The pwsh to run, or undefined when PowerShell 7 is not installed. */
export function findPwsh(lookup: PwshLookup = {}): string | undefined {
  const env = lookup.env ?? process.env;
  const platform = lookup.platform ?? process.platform;
  const isExecutable = lookup.isExecutable ?? canExecute;
  const name = platform === "win32" ? "pwsh.exe" : "pwsh";
  const separator = platform === "win32" ? ";" : delimiter;
  const onPath = (env.PATH ?? "").split(separator).filter(Boolean).map((dir) => join(dir, name));
  return [...onPath, ...dotnetToolsCandidates(env, name)].find(isExecutable);
}

/** Global .NET tools live under $DOTNET_CLI_HOME/.dotnet/tools, else the home directory's. */
function dotnetToolsCandidates(env: NodeJS.ProcessEnv, name: string): string[] {
  const homes = [env.DOTNET_CLI_HOME, env.HOME ?? env.USERPROFILE].filter((home): home is string => Boolean(home));
  return homes.map((home) => join(home, ".dotnet", "tools", name));
}

/** How to get pwsh, for messages that say it is missing. */
export const PWSH_INSTALL_HINT =
  "install PowerShell 7: bash scripts/install-powershell.sh (needs the .NET SDK), or Microsoft's packages: https://learn.microsoft.com/powershell/scripting/install/installing-powershell-on-linux";

function canExecute(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
