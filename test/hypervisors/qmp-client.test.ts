import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { QmpClient, QmpCommandError, QmpDisconnectedError, QmpTimeoutError, type QmpEvent } from "../../src/hypervisors/qemu/qmp-client.ts";
import { startProtocolServer, type Request } from "./protocol-server.ts";

const GREETING = { QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: [] } };

function qemuLike(request: Request): unknown[] {
  switch (request.execute) {
    case "qmp_capabilities":
      return [{ return: {}, id: request.id }];
    case "query-status":
      // A stale answer with another id first: it must not resolve this command.
      return [{ return: { status: "paused" }, id: "someone-else" }, { return: { status: "running", running: true }, id: request.id }];
    case "blockdev-snapshot-sync":
      return [{ error: { class: "GenericError", desc: "Could not create file: Permission denied" }, id: request.id }];
    case "system_powerdown":
      return [{ event: "POWERDOWN", timestamp: { seconds: 1, microseconds: 0 } }, { return: {}, id: request.id }];
    default:
      return [];
  }
}

describe("QmpClient", () => {
  it("negotiates capabilities before anything else", async () => {
    const server = await startProtocolServer(qemuLike, GREETING);
    const client = await QmpClient.connect(server.socketPath);
    assert.equal(server.requests[0]?.execute, "qmp_capabilities");
    client.close();
    await server.close();
  });

  it("matches answers to commands by id and ignores stale ones", async () => {
    const server = await startProtocolServer(qemuLike, GREETING);
    const client = await QmpClient.connect(server.socketPath);
    assert.deepEqual(await client.execute("query-status"), { status: "running", running: true });
    client.close();
    await server.close();
  });

  it("turns QEMU errors into QmpCommandError naming the command", async () => {
    const server = await startProtocolServer(qemuLike, GREETING);
    const client = await QmpClient.connect(server.socketPath);
    await assert.rejects(client.execute("blockdev-snapshot-sync", { device: "disk0" }), (error: Error) => error instanceof QmpCommandError && /blockdev-snapshot-sync failed: GenericError: Could not create file/.test(error.message));
    client.close();
    await server.close();
  });

  it("delivers events to listeners", async () => {
    const server = await startProtocolServer(qemuLike, GREETING);
    const client = await QmpClient.connect(server.socketPath);
    const events: QmpEvent[] = [];
    client.onEvent((event) => events.push(event));
    await client.execute("system_powerdown");
    assert.deepEqual(events.map((event) => event.event), ["POWERDOWN"]);
    client.close();
    await server.close();
  });

  it("times out a command QEMU never answers", async () => {
    const server = await startProtocolServer(qemuLike, GREETING);
    const client = await QmpClient.connect(server.socketPath);
    await assert.rejects(client.execute("stop", undefined, 100), (error: Error) => error instanceof QmpTimeoutError && /stop got no answer within 100 ms/.test(error.message));
    client.close();
    await server.close();
  });

  it("fails pending and later commands when QEMU goes away", async () => {
    const server = await startProtocolServer(qemuLike, GREETING);
    const client = await QmpClient.connect(server.socketPath);
    const pending = client.execute("stop");
    server.dropClients();
    await assert.rejects(pending, QmpDisconnectedError);
    await client.closed;
    assert.equal(client.isOpen, false);
    await assert.rejects(client.execute("query-status"), QmpDisconnectedError);
    await server.close();
  });

  it("gives up on a socket that never greets", async () => {
    const server = await startProtocolServer(() => []);
    await assert.rejects(QmpClient.connect(server.socketPath, 100), (error: Error) => error instanceof QmpTimeoutError && /no QMP greeting/.test(error.message));
    await server.close();
  });
});
