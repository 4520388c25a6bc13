import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { MAX_READ_LENGTH, NbdClient, NbdError } from "../../src/capture/nbd-client.ts";

const EXPORT_SIZE = 3 * MAX_READ_LENGTH + 1000;
const content = Buffer.from(Array.from({ length: EXPORT_SIZE }, (_, i) => (i * 7) & 0xff));

interface ServerBehaviour {
  /** Answer reads at or past this offset with this NBD error number. */
  readonly failAt?: { readonly offset: number; readonly error: number };
  /** Close the connection instead of answering the nth read (0-based). */
  readonly hangUpOnRead?: number;
}

/** A fixed-newstyle NBD server serving `content` on a Unix socket; records the requests it saw. */
async function withServer(
  behaviour: ServerBehaviour,
  run: (socketPath: string, requests: { type: number; offset: number; length: number }[], hungUp: Promise<void>) => Promise<void>,
) {
  const dir = await mkdtemp(path.join(tmpdir(), "rebake-nbd-test-"));
  const socketPath = path.join(dir, "s");
  const requests: { type: number; offset: number; length: number }[] = [];
  const sockets = new Set<Socket>();
  let clientHungUp!: () => void;
  /** Resolves when a client closes its end: everything it sent has been read by then. */
  const hungUp = new Promise<void>((resolve) => (clientHungUp = resolve));
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("end", () => clientHungUp());
    let buffered = Buffer.alloc(0);
    let stage: "flags" | "option" | "requests" = "flags";
    const greeting = Buffer.alloc(18);
    greeting.write("NBDMAGICIHAVEOPT", 0, "latin1");
    greeting.writeUInt16BE(0b11, 16);
    socket.write(greeting);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (stage === "flags" && buffered.length >= 4) {
          buffered = buffered.subarray(4);
          stage = "option";
        } else if (stage === "option" && buffered.length >= 16 && buffered.length >= 16 + buffered.readUInt32BE(12)) {
          buffered = buffered.subarray(16 + buffered.readUInt32BE(12));
          const info = Buffer.alloc(10);
          info.writeBigUInt64BE(BigInt(EXPORT_SIZE), 0);
          socket.write(info);
          stage = "requests";
        } else if (stage === "requests" && buffered.length >= 28) {
          const type = buffered.readUInt16BE(6);
          const cookie = buffered.readBigUInt64BE(8);
          const offset = Number(buffered.readBigUInt64BE(16));
          const length = buffered.readUInt32BE(24);
          buffered = buffered.subarray(28);
          requests.push({ type, offset, length });
          if (type !== 0) continue;
          if (behaviour.hangUpOnRead === requests.length - 1) {
            socket.destroy();
            return;
          }
          const reply = Buffer.alloc(16);
          reply.writeUInt32BE(0x67446698, 0);
          const error = behaviour.failAt && offset >= behaviour.failAt.offset ? behaviour.failAt.error : 0;
          reply.writeUInt32BE(error, 4);
          reply.writeBigUInt64BE(cookie, 8);
          socket.write(error ? reply : Buffer.concat([reply, content.subarray(offset, offset + length)]));
        } else {
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  try {
    await run(socketPath, requests, hungUp);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
}

test("the client learns the export size and reads ranges larger than one request in order", async () => {
  await withServer({}, async (socketPath, requests, hungUp) => {
    const client = await NbdClient.connect(socketPath);
    assert.equal(client.size, EXPORT_SIZE);
    const into = Buffer.alloc(EXPORT_SIZE);
    const length = 2 * MAX_READ_LENGTH + 500;
    await Promise.all([client.read(into, 0, length, 100), client.read(into, length, 300, 100 + length)]);
    assert.ok(into.subarray(0, length + 300).equals(content.subarray(100, 100 + length + 300)));
    assert.deepEqual(
      requests.map((r) => r.length),
      [MAX_READ_LENGTH, MAX_READ_LENGTH, 500, 300],
    );
    await client.close();
    await hungUp;
    assert.equal(requests.at(-1)!.type, 2, "the session ends with NBD_CMD_DISC");
  });
});

test("a read the server fails names the offset and the error number", async () => {
  await withServer({ failAt: { offset: 4096, error: 5 } }, async (socketPath) => {
    const client = await NbdClient.connect(socketPath);
    const into = Buffer.alloc(8192);
    await client.read(into, 0, 4096, 0);
    await assert.rejects(client.read(into, 0, 4096, 4096), (error: unknown) => error instanceof NbdError && /at 4096 with error 5/.test(error.message));
    await client.close();
  });
});

test("a server that hangs up in the middle of a read rejects it instead of hanging", async () => {
  await withServer({ hangUpOnRead: 1 }, async (socketPath) => {
    const client = await NbdClient.connect(socketPath);
    const into = Buffer.alloc(8192);
    await client.read(into, 0, 4096, 0);
    await assert.rejects(client.read(into, 0, 4096, 4096), (error: unknown) => error instanceof NbdError && /closed the connection/.test(error.message));
    await client.close();
  });
});

test("connecting to a socket nobody listens on names the socket", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "rebake-nbd-test-"));
  try {
    await assert.rejects(NbdClient.connect(path.join(dir, "none")), (error: unknown) => error instanceof NbdError && error.message.includes(path.join(dir, "none")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
