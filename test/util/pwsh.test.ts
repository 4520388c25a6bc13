/** Finding pwsh: PATH first, then where `dotnet tool install --global` puts it. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { findPwsh } from "../../src/util/pwsh.ts";

describe("findPwsh", () => {
  const rows: readonly { name: string; env: NodeJS.ProcessEnv; platform?: NodeJS.Platform; executables: readonly string[]; expect: string | undefined }[] = [
    { name: "takes the first pwsh on PATH", env: { PATH: "/a:/b", HOME: "/h" }, executables: ["/b/pwsh", "/h/.dotnet/tools/pwsh"], expect: "/b/pwsh" },
    { name: "falls back to the home directory's .NET global tools", env: { PATH: "/a", HOME: "/h" }, executables: ["/h/.dotnet/tools/pwsh"], expect: "/h/.dotnet/tools/pwsh" },
    { name: "prefers DOTNET_CLI_HOME's tools to HOME's", env: { PATH: "", HOME: "/h", DOTNET_CLI_HOME: "/d" }, executables: ["/d/.dotnet/tools/pwsh", "/h/.dotnet/tools/pwsh"], expect: "/d/.dotnet/tools/pwsh" },
    { name: "skips empty PATH entries", env: { PATH: "::/b", HOME: "/h" }, executables: ["pwsh", "/b/pwsh"], expect: "/b/pwsh" },
    { name: "is undefined when pwsh is nowhere", env: { PATH: "/a", HOME: "/h" }, executables: ["/a/powershell"], expect: undefined },
    { name: "looks for pwsh.exe on Windows", env: { PATH: "C:/ps", USERPROFILE: "C:/u" }, platform: "win32", executables: ["C:/ps/pwsh.exe"], expect: "C:/ps/pwsh.exe" },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const found = findPwsh({ env: row.env, platform: row.platform ?? "linux", isExecutable: (path) => row.executables.includes(path) });
      assert.equal(found, row.expect);
    });
  }
});
