import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { toolVersions } from "../../src/runner/tool-versions.ts";
import { createRecordingExec } from "../../src/util/exec.ts";

describe("toolVersions", () => {
  it("records each tool's version, 'not installed' for one that is missing, and node and rebake", async () => {
    const exec = createRecordingExec((command) => {
      if (command === "qemu-system-x86_64") return { stdout: "QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u7)\n" };
      if (command === "xorriso") return { stderr: "xorriso 1.5.4 : RockRidge filesystem manipulator\n" };
      return { exitCode: 127, stderr: "qemu-img: not found" };
    });
    const { version } = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    assert.deepEqual(await toolVersions(exec, "v20.19.0"), { qemu: "7.2.15", "qemu-img": "not installed", xorriso: "1.5.4", node: "20.19.0", rebake: version });
    assert.deepEqual(exec.calls.map((c) => c.command).sort(), ["qemu-img", "qemu-system-x86_64", "xorriso"]);
  });
});
