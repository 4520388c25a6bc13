import { describe, it, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AgentPortClosedError, EXEC_POLL_MS, nextExecPoll, QgaChannel, UploadChecksumError } from "../../src/guest/qga/qga-channel.ts";
import { AgentPortState } from "../../src/hypervisors/qemu/agent-port.ts";
import { QgaCommandError, QgaConnection } from "../../src/guest/qga/qga-connection.ts";
import { GuestTimeoutError } from "../../src/guest/channel.ts";
import { startProtocolServer, type Request } from "../hypervisors/protocol-server.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** A guest agent that answers like qemu-ga; `up()` decides whether it is running right now. */
function agent(options: { up?: () => boolean; onShutdown?: (mode: unknown) => unknown[]; execStatus?: (polls: number) => unknown } = {}) {
  let polls = 0;
  return (request: Request): unknown[] => {
    if (options.up && !options.up()) return [];
    const reply = (value: unknown) => [{ return: value, id: request.id }];
    switch (request.execute) {
      case "guest-sync-delimited":
        // A stale answer from before a reset comes first; only the echo of the fresh id counts.
        return [{ return: 1, id: "stale" }, ...reply(request.arguments?.id)];
      case "guest-ping":
        return reply({});
      case "guest-get-osinfo":
        return reply({ id: "debian" });
      case "guest-exec":
        return reply({ pid: 42 });
      case "guest-exec-status":
        polls++;
        return reply(options.execStatus?.(polls) ?? (polls < 3 ? { exited: false } : { exited: true, exitcode: 3, "out-data": b64("out\n"), "err-data": b64("err\n") }));
      case "guest-shutdown":
        return options.onShutdown?.(request.arguments?.mode) ?? [];
      case "guest-file-open":
        return reply(7);
      case "guest-file-write":
        return reply({ count: Buffer.from(String(request.arguments?.["buf-b64"]), "base64").length, eof: false });
      case "guest-file-close":
        return reply({});
      default:
        return [{ error: { class: "CommandNotFound", desc: `The command ${request.execute} has not been found` }, id: request.id }];
    }
  };
}

describe("QgaChannel (scripted agent)", () => {
  it("resets the agent's parser with 0xFF before guest-sync-delimited", async () => {
    const server = await startProtocolServer(agent());
    const channel = new QgaChannel({ socketPath: server.socketPath });
    await channel.waitReady(2_000);
    assert.equal(Buffer.concat(server.received)[0], 0xff);
    assert.equal(server.requests[0]?.execute, "guest-sync-delimited");
    await channel.close();
    await server.close();
  });

  it("polls guest-exec-status until the command exits and decodes its output", async () => {
    const server = await startProtocolServer(agent());
    const channel = new QgaChannel({ socketPath: server.socketPath });
    const result = await channel.exec("do things", { shell: "sh", timeoutMs: 5_000 });
    assert.deepEqual(result, { exitCode: 3, stdout: "out\n", stderr: "err\n" });
    assert.equal(server.requests.filter((request) => request.execute === "guest-exec-status").length, 3);
    assert.deepEqual(server.requests[0]?.arguments, { path: "/bin/sh", arg: ["-c", "do things"], "capture-output": true });
    await channel.close();
    await server.close();
  });

  it("refuses an upload whose guest-side sha256 differs, naming both hashes", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rebake-qga-unit-"));
    const local = path.join(dir, "app.bin");
    await writeFile(local, "payload");
    const server = await startProtocolServer(agent({ execStatus: () => ({ exited: true, exitcode: 0, "out-data": b64(`${"0".repeat(64)}  /tmp/app.bin\n`) }) }));
    const channel = new QgaChannel({ socketPath: server.socketPath });
    await assert.rejects(channel.upload(local, "/tmp/app.bin"), (error: Error) => error instanceof UploadChecksumError && /expected sha256 [0-9a-f]{64}, the guest computed 0{64}/.test(error.message));
    assert.ok(server.requests.some((request) => request.execute === "guest-file-close"), "the guest file was left open");
    await channel.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const shutdowns = [
    { name: "takes silence after guest-shutdown as acceptance", answer: () => [], rejects: false },
    { name: "reports an error the agent sends back for guest-shutdown", answer: () => [{ error: { class: "GenericError", desc: "shutdown not allowed" }, id: undefined }], rejects: true },
  ];
  for (const s of shutdowns) {
    it(s.name, async () => {
      let lastId: unknown;
      const answer = agent({ onShutdown: () => s.answer().map((message) => ({ ...message, id: lastId })) });
      const server = await startProtocolServer((request) => {
        lastId = request.id;
        return answer(request);
      });
      const channel = new QgaChannel({ socketPath: server.socketPath });
      if (s.rejects) await assert.rejects(channel.shutdown(), QgaCommandError);
      else await channel.shutdown();
      assert.deepEqual(server.requests.at(-1)?.arguments, { mode: "powerdown" });
      await channel.close();
      await server.close();
    });
  }

  it("waits for a reboot to take the agent down and bring it back", async () => {
    // The agent answers two more requests after accepting the reboot, leaves the next two
    // unanswered (the guest is down), then answers again: phases move on requests, not on time.
    let phase: "up" | "going down" | "down" | "back" = "up";
    let inPhase = 0;
    const up = () => {
      if (phase === "going down" && inPhase++ >= 2) [phase, inPhase] = ["down", 0];
      if (phase === "down" && inPhase++ >= 2) phase = "back";
      return phase !== "down";
    };
    const server = await startProtocolServer(agent({ up, onShutdown: () => ((phase = "going down"), []) }));
    const channel = new QgaChannel({ socketPath: server.socketPath, requestTimeoutMs: 500 });
    await channel.reboot(60_000);
    assert.equal(phase, "back", "reboot resolved before the guest came back");
    assert.equal(server.requests.at(-1)?.execute, "guest-sync-delimited", "ready again means a fresh sync answered");
    await channel.close();
    await server.close();
  });

  it("follows a reboot by the agent's port closing and reopening, without waiting out the error window", async () => {
    const port = new AgentPortState("qga-port");
    const change = (open: boolean) => port.onEvent({ event: "VSERPORT_CHANGE", data: { id: "qga-port", open } });
    change(true);
    const sent: string[] = [];
    let shutdown: "pending" | "dropped when the port closed" | "sat out the error window" = "pending";
    /** qemu-ga never answers guest-shutdown; the guest closes the port as its agent exits. */
    class RebootingAgent extends QgaConnection {
      override async request<T>(command: string, _args: Record<string, unknown> | undefined, timeoutMs: number, signal?: AbortSignal): Promise<T> {
        sent.push(command);
        if (command !== "guest-shutdown") return {} as T;
        change(false);
        setImmediate(() => change(true));
        return new Promise<T>((_resolve, reject) => {
          const timer = setTimeout(() => ((shutdown = "sat out the error window"), reject(new GuestTimeoutError(`no answer within ${timeoutMs} ms`))), timeoutMs);
          signal?.addEventListener("abort", () => (clearTimeout(timer), (shutdown = "dropped when the port closed"), reject(new Error("aborted"))), { once: true });
        });
      }
      override async sync(): Promise<void> {
        sent.push("guest-sync-delimited");
      }
    }
    const channel = new QgaChannel({ socketPath: "/nonexistent", connection: new RebootingAgent("/nonexistent"), agentPort: port });
    await channel.reboot(60_000);
    assert.equal(shutdown, "dropped when the port closed");
    assert.deepEqual(sent, ["guest-sync-delimited", "guest-shutdown", "guest-sync-delimited"], "no guest-ping probes: the port said when the guest went down and came back");
    assert.equal(port.isOpen, true);
    await channel.close();
  });

  it("times out a reboot when the guest never comes back", async () => {
    let down = false;
    const server = await startProtocolServer(agent({ up: () => !down, onShutdown: () => ((down = true), []) }));
    const channel = new QgaChannel({ socketPath: server.socketPath, requestTimeoutMs: 200 });
    await assert.rejects(channel.reboot(1_500), GuestTimeoutError);
    await channel.close();
    await server.close();
  });

  it("sends nothing until the guest opens the agent's port, then syncs at once", async () => {
    let channelWaits!: () => void;
    const waiting = new Promise<"waiting">((resolve) => (channelWaits = () => resolve("waiting")));
    /** Tells the test when the channel starts waiting for the port: the moment to open it. */
    class WatchedPort extends AgentPortState {
      override waitOpen(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
        channelWaits();
        return super.waitOpen(timeoutMs, signal);
      }
    }
    const port = new WatchedPort("qga-port");
    const beforeOpen: string[] = [];
    const answer = agent();
    const server = await startProtocolServer((request) => {
      if (!port.isOpen) beforeOpen.push(request.execute);
      return answer(request);
    });
    const channel = new QgaChannel({ socketPath: server.socketPath, agentPort: port });
    const ready = channel.waitReady(60_000);
    assert.equal(await Promise.race([waiting, ready.then(() => "ready without waiting for the port")]), "waiting");
    port.onEvent({ event: "VSERPORT_CHANGE", data: { id: "qga-port", open: true } });
    await ready;
    assert.deepEqual(beforeOpen, []);
    assert.equal(server.requests[0]?.execute, "guest-sync-delimited");
    await channel.close();
    await server.close();
  });

  it("says the agent is not running when the guest never opens its port", async () => {
    const server = await startProtocolServer(agent());
    const port = new AgentPortState("qga-port");
    port.onEvent({ event: "VSERPORT_CHANGE", data: { id: "other-port", open: true } });
    const channel = new QgaChannel({ socketPath: server.socketPath, agentPort: port });
    await assert.rejects(channel.waitReady(200), (error: Error) => error instanceof AgentPortClosedError && /did not open the guest agent's virtio-serial port within 200 ms/.test(error.message));
    assert.equal(server.received.length, 0);
    await channel.close();
    await server.close();
  });
});

describe("AgentPortState", () => {
  const cases: { name: string; events: { id: string; open: boolean }[]; reset?: boolean; open: boolean }[] = [
    { name: "starts closed", events: [], open: false },
    { name: "opens on VSERPORT_CHANGE open for its port", events: [{ id: "qga-port", open: true }], open: true },
    { name: "ignores other ports", events: [{ id: "serial1", open: true }], open: false },
    { name: "closes when the guest closes the port (reboot)", events: [{ id: "qga-port", open: true }, { id: "qga-port", open: false }], open: false },
    { name: "closes when QEMU restarts", events: [{ id: "qga-port", open: true }], reset: true, open: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const port = new AgentPortState("qga-port");
      for (const data of c.events) port.onEvent({ event: "VSERPORT_CHANGE", data });
      if (c.reset) port.reset();
      assert.equal(port.isOpen, c.open);
      assert.equal(await port.waitOpen(20), c.open);
    });
  }
});

test("guest-exec-status polls stay at most 100 ms apart for the first seconds, then back off to 1 s", () => {
  const pauses: number[] = [];
  let pause: number = EXEC_POLL_MS.first;
  let elapsed = 0;
  while (elapsed < 12_000) {
    pauses.push(pause);
    elapsed += pause;
    pause = nextExecPoll(pause, elapsed);
  }
  assert.deepEqual(pauses.slice(0, 6), [10, 20, 40, 80, 100, 100], "a command of 350 ms is seen by 450 ms, not 630 ms");
  assert.ok(pauses.filter((_, i) => pauses.slice(0, i).reduce((a, b) => a + b, 0) < 5_000).every((p) => p <= 100));
  assert.equal(pauses.at(-1), 1_000, "long installs are asked once a second");
});
