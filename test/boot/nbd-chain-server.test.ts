/**
 * The chain NBD server against QEMU's own NBD client: qemu-img reads the served version chain as
 * the full capture of the same build, and a write through it is refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startChainNbdServer } from "../../src/boot/nbd-chain-server.ts";
import { captureVhdx } from "../../src/capture/vhdx-capture.ts";
import { captureDifferencingVhdx } from "../../src/capture/vhdx-diff-capture.ts";
import { VhdxChain } from "../../src/capture/vhdx-reader.ts";
import { createExec } from "../../src/util/exec.ts";
import { freePort } from "../../src/util/local-port.ts";

const exec = createExec();

test("qemu-img reads the served chain as the full capture, and cannot write to it", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "rebake-nbd-chain-"));
  const at = (name: string) => path.join(dir, name);
  const io = (image: string, ...commands: string[]) => exec("qemu-io", [...commands.flatMap((c) => ["-c", c]), at(image)]);
  try {
    await exec("qemu-img", ["create", "-q", "-f", "qcow2", at("d.qcow2"), "48M"]);
    await io("d.qcow2", "write -P 0x11 0 20M");
    await captureVhdx({ path: at("d.qcow2") }, at("base.vhdx"), { exec });
    await io("d.qcow2", "write -P 0x12 3M 100k", "write -z 10M 2M", "write -P 0x13 47M 512");
    await captureVhdx({ path: at("d.qcow2") }, at("full.vhdx"), { exec });
    await captureDifferencingVhdx({ path: at("d.qcow2") }, { path: at("base.vhdx"), relativePath: "base.vhdx" }, at("base.1.avhdx"), { exec });
    const chain = await VhdxChain.open(at("base.1.avhdx"));
    const server = await startChainNbdServer(chain, await freePort(), "vdisk");
    try {
      const url = `nbd://127.0.0.1:${server.port}/vdisk`;
      await exec("qemu-img", ["compare", "-f", "raw", "-F", "vhdx", url, at("full.vhdx")]);
      await assert.rejects(exec("qemu-io", ["-f", "raw", "-c", "write -P 0xff 0 4k", url]));
    } finally {
      await server.close();
      await chain.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
