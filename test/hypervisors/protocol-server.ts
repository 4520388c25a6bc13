/** A scripted JSON-lines server on a temp unix socket, standing in for QEMU's QMP or a guest agent. */
import net from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { JsonLineDecoder } from "../../src/util/json-lines.ts";

export interface Request {
  readonly execute: string;
  readonly arguments?: Record<string, unknown>;
  readonly id?: unknown;
}

export interface ProtocolServer {
  readonly socketPath: string;
  readonly requests: Request[];
  /** Raw bytes received, to check framing such as the 0xFF sentinel. */
  readonly received: Buffer[];
  /** Sends to every connected client. */
  send(message: unknown): void;
  /** Drops every client connection. */
  dropClients(): void;
  close(): Promise<void>;
}

/** `answer` returns the messages to send for a request (none = silence). */
export async function startProtocolServer(
  answer: (request: Request, server: ProtocolServer) => unknown[],
  greeting?: unknown,
): Promise<ProtocolServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rebake-proto-"));
  const socketPath = path.join(dir, "s.sock");
  const clients = new Set<net.Socket>();
  const requests: Request[] = [];
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    clients.add(socket);
    socket.on("close", () => clients.delete(socket));
    socket.on("error", () => {});
    if (greeting !== undefined) socket.write(`${JSON.stringify(greeting)}\n`);
    const decoder = new JsonLineDecoder();
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      for (const message of decoder.push(chunk)) {
        const request = message as Request;
        requests.push(request);
        for (const reply of answer(request, api)) socket.write(`${JSON.stringify(reply)}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const api: ProtocolServer = {
    socketPath,
    requests,
    received,
    send: (message) => {
      for (const client of clients) client.write(`${JSON.stringify(message)}\n`);
    },
    dropClients: () => {
      for (const client of clients) client.destroy();
    },
    close: async () => {
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  return api;
}
