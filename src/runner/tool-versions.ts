/** Versions of the tools that made an image, recorded in the manifest so a build can be reproduced. */
import { readFile } from "node:fs/promises";
import type { Exec } from "../util/exec.ts";

const TOOLS: readonly { readonly name: string; readonly command: string; readonly args: readonly string[] }[] = [
  { name: "qemu", command: "qemu-system-x86_64", args: ["--version"] },
  { name: "qemu-img", command: "qemu-img", args: ["--version"] },
  { name: "xorriso", command: "xorriso", args: ["-version"] },
];

const NOT_INSTALLED = "not installed";
const VERSION = /\d+\.\d+(?:\.\d+)?/;

export async function toolVersions(exec: Exec, nodeVersion: string = process.version): Promise<Record<string, string>> {
  // Each --version is a process start: asked together, they cost the build one start, not three.
  const found = await Promise.all(
    TOOLS.map(async (tool) => {
      const result = await exec(tool.command, tool.args, { nothrow: true, timeoutMs: 10_000 }).catch(() => undefined);
      const text = result ? `${result.stdout}\n${result.stderr}` : "";
      return [tool.name, VERSION.exec(text)?.[0] ?? NOT_INSTALLED] as const;
    }),
  );
  return { ...Object.fromEntries(found), node: nodeVersion.replace(/^v/, ""), rebake: await rebakeVersion() };
}

async function rebakeVersion(): Promise<string> {
  const text = await readFile(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}
