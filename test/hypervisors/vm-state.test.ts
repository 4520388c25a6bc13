import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { QmpClient } from "../../src/hypervisors/qemu/qmp-client.ts";
import { TrackedProcess } from "../../src/hypervisors/qemu/tracked-process.ts";
import { loadCommand, loadVmState, saveVmState, VmStateFileError } from "../../src/hypervisors/qemu/vm-state.ts";
import { createFakeSpawn } from "./fake-spawn.ts";
import { startProtocolServer, type Request } from "./protocol-server.ts";

const GREETING = { QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: [] } };
const STATE = "QEVM saved state";

/** A QEMU whose outgoing migration runs its `exec:` target through sh, as QEMU does, and ends in `final`. */
function migratingQemu(final: { status: string; "error-desc"?: string }) {
  let polls = 0;
  return (request: Request): unknown[] => {
    const ok = (value: unknown = {}) => [{ return: value, id: request.id }];
    switch (request.execute) {
      case "migrate": {
        const uri = String(request.arguments?.["uri"]);
        if (!uri.startsWith("exec:")) return [{ error: { class: "GenericError", desc: `unexpected uri ${uri}` }, id: request.id }];
        execFileSync("sh", ["-c", uri.slice("exec:".length)], { input: STATE });
        return ok();
      }
      case "query-migrate":
        // Active at first, as a real migration is for a while.
        return ok(polls++ === 0 ? { status: "active" } : final);
      default:
        return ok();
    }
  };
}

async function withQmp(answer: (request: Request) => unknown[], body: (qmp: QmpClient, dir: string, requests: Request[]) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rebake-vmstate-"));
  const server = await startProtocolServer(answer, GREETING);
  const qmp = await QmpClient.connect(server.socketPath);
  try {
    await body(qmp, dir, server.requests);
  } finally {
    qmp.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe("saving a VM state", () => {
  it("migrates to a temp file at full speed and renames it when the migration completed", () =>
    withQmp(migratingQemu({ status: "completed" }), async (qmp, dir, requests) => {
      const target = path.join(dir, "it's.vmstate");
      const size = await saveVmState(qmp, target);
      assert.equal(size, (await readFile(target)).length);
      assert.equal(execFileSync("sh", ["-c", loadCommand(target).slice("exec:".length)], { encoding: "utf8" }), STATE, "the saved file loads back to the stream QEMU wrote");
      assert.deepEqual(await readdir(dir), ["it's.vmstate"], "no temp file left");
      const commands = requests.map((r) => r.execute).filter((c) => c !== "qmp_capabilities");
      assert.deepEqual(commands.slice(0, 2), ["migrate-set-parameters", "migrate"]);
      assert.ok(Number(requests.find((r) => r.execute === "migrate-set-parameters")?.arguments?.["max-bandwidth"]) >= 2 ** 30);
    }));

  const failures = [
    { status: "failed", "error-desc": "No space left on device", message: /failed: No space left on device/ },
    { status: "cancelled", message: /cancelled: no reason given/ },
  ] as const;
  for (const failure of failures) {
    it(`leaves nothing behind and says why when the migration ends ${failure.status}`, () =>
      withQmp(migratingQemu(failure), async (qmp, dir) => {
        const target = path.join(dir, "layer.vmstate");
        await assert.rejects(saveVmState(qmp, target), (error: Error) => error instanceof VmStateFileError && error.message.includes(target) && failure.message.test(error.message));
        assert.deepEqual(await readdir(dir), []);
      }));
  }
});

describe("loading a VM state", () => {
  it("reads a compressed state, and one saved uncompressed before compression, as the stream QEMU wrote", () => {
    const dir = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
    try {
      const old = path.join(dir, "old.vmstate");
      writeFileSync(old, STATE);
      const compressed = path.join(dir, "new.vmstate");
      execFileSync("sh", ["-c", `zstd -q -1 -c > '${compressed}'`], { input: STATE });
      for (const file of [old, compressed]) assert.equal(execFileSync("sh", ["-c", loadCommand(file).slice("exec:".length)], { encoding: "utf8" }), STATE, file);
    } finally {
      execFileSync("rm", ["-rf", dir]);
    }
  });

  it("feeds the file to the incoming migration and resolves once the VM is paused at the state", async () => {
    let statusPolls = 0;
    const answer = (request: Request): unknown[] => [
      { return: request.execute === "query-status" ? { status: statusPolls++ < 2 ? "inmigrate" : "paused" } : {}, id: request.id },
    ];
    const spawn = createFakeSpawn();
    const qemu = new TrackedProcess(spawn("qemu-system-x86_64", []), "qemu");
    await withQmp(answer, async (qmp, _dir, requests) => {
      await loadVmState(qmp, qemu, "/cache/it's.vmstate");
      assert.deepEqual(requests.find((r) => r.execute === "migrate-incoming")?.arguments, { uri: loadCommand("/cache/it's.vmstate") });
      assert.ok(statusPolls >= 3);
    });
    spawn.children[0]?.exit(0);
  });

  it("reports QEMU's own reason when it exits on a state it cannot load", async () => {
    const spawn = createFakeSpawn((child) => {
      child.stderr.write("qemu-system-x86_64: Not a migration stream\nqemu-system-x86_64: load of migration failed: Invalid argument\n");
      setTimeout(() => child.exit(1), 20);
    });
    const qemu = new TrackedProcess(spawn("qemu-system-x86_64", []), "qemu");
    const answer = (request: Request): unknown[] => (request.execute === "query-status" ? [] : [{ return: {}, id: request.id }]);
    await withQmp(answer, async (qmp) => {
      await assert.rejects(loadVmState(qmp, qemu, "/cache/bad.vmstate"), (error: Error) =>
        error instanceof VmStateFileError && /qemu exited while loading \/cache\/bad\.vmstate: .*Not a migration stream; .*Invalid argument/.test(error.message),
      );
    });
  });
});
