/**
 * A read-only NBD server for a vDisk version chain (base + `.avhdx` versions), which qemu-nbd
 * cannot serve: QEMU's vhdx driver refuses differencing files. Reads go through VhdxChain, the
 * same reader that proves a chain equals its full capture. Speaks the fixed newstyle handshake
 * (NBD_OPT_GO, NBD_OPT_EXPORT_NAME) and simple replies only, per the protocol document
 * (NetworkBlockDevice/nbd doc/proto.md); anything else gets NBD_REP_ERR_UNSUP or EINVAL, writes
 * EPERM, so a client can never change the chain.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { VhdxChain } from "../capture/vhdx-reader.ts";

const NBDMAGIC = Buffer.from("NBDMAGIC", "latin1");
const IHAVEOPT = 0x49484156454f5054n;
const REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;
const OPT_EXPORT_NAME = 1;
const OPT_ABORT = 2;
const OPT_INFO = 6;
const OPT_GO = 7;
const REP_ACK = 1;
const REP_INFO = 3;
const REP_ERR_UNSUP = 0x80000001;
const REP_ERR_UNKNOWN = 0x80000006;
const INFO_EXPORT = 0;
const TRANSMISSION_FLAGS = 1 | 2 | 4; // HAS_FLAGS, READ_ONLY, SEND_FLUSH
const CMD_READ = 0;
const CMD_DISC = 2;
const CMD_FLUSH = 3;
const EPERM = 1;
const EINVAL = 22;
/** Larger reads are refused: QEMU asks for at most 32 MiB. */
const MAX_READ = 64 * 1024 * 1024;

export interface ChainNbdServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Collects socket data and hands out exact byte counts in order. */
class Reader {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiting: { size: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private ended = false;

  constructor(socket: Socket) {
    socket.on("data", (data: Buffer) => {
      this.chunks.push(data);
      this.length += data.length;
      this.pump();
    });
    const end = () => {
      this.ended = true;
      this.waiting?.reject(new Error("the client closed the connection"));
      this.waiting = undefined;
    };
    socket.on("end", end);
    socket.on("close", end);
  }

  read(size: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.ended && this.length < size) return reject(new Error("the client closed the connection"));
      this.waiting = { size, resolve, reject };
      this.pump();
    });
  }

  private pump(): void {
    if (!this.waiting || this.length < this.waiting.size) return;
    const all = Buffer.concat(this.chunks);
    const { size, resolve } = this.waiting;
    this.waiting = undefined;
    this.chunks = [all.subarray(size)];
    this.length = all.length - size;
    resolve(all.subarray(0, size));
  }
}

function optionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(20);
  header.writeBigUInt64BE(REPLY_MAGIC, 0);
  header.writeUInt32BE(option, 8);
  header.writeUInt32BE(type, 12);
  header.writeUInt32BE(data.length, 16);
  return Buffer.concat([header, data]);
}

function simpleReply(error: number, handle: Buffer, data?: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  header.writeUInt32BE(error, 4);
  handle.copy(header, 8);
  return data ? Buffer.concat([header, data]) : header;
}

/** Handshake: true once an export was chosen, false when the client aborted. */
async function negotiate(socket: Socket, reader: Reader, exportName: string, size: number): Promise<boolean> {
  const hello = Buffer.alloc(18);
  NBDMAGIC.copy(hello, 0);
  hello.writeBigUInt64BE(IHAVEOPT, 8);
  hello.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  socket.write(hello);
  const clientFlags = (await reader.read(4)).readUInt32BE(0);
  for (;;) {
    const header = await reader.read(16);
    if (header.readBigUInt64BE(0) !== IHAVEOPT) throw new Error("the client sent an option without the IHAVEOPT magic");
    const option = header.readUInt32BE(8);
    const data = await reader.read(header.readUInt32BE(12));
    if (option === OPT_EXPORT_NAME) {
      if (data.toString("utf8") !== exportName) throw new Error(`the client asked for export '${data.toString("utf8")}'`);
      const reply = Buffer.alloc((clientFlags & FLAG_NO_ZEROES) !== 0 ? 10 : 134);
      reply.writeBigUInt64BE(BigInt(size), 0);
      reply.writeUInt16BE(TRANSMISSION_FLAGS, 8);
      socket.write(reply);
      return true;
    }
    if (option === OPT_ABORT) {
      socket.write(optionReply(option, REP_ACK));
      return false;
    }
    if (option === OPT_GO || option === OPT_INFO) {
      const name = data.subarray(4, 4 + data.readUInt32BE(0)).toString("utf8");
      if (name !== exportName && name !== "") {
        socket.write(optionReply(option, REP_ERR_UNKNOWN));
        continue;
      }
      const info = Buffer.alloc(12);
      info.writeUInt16BE(INFO_EXPORT, 0);
      info.writeBigUInt64BE(BigInt(size), 2);
      info.writeUInt16BE(TRANSMISSION_FLAGS, 10);
      socket.write(optionReply(option, REP_INFO, info));
      socket.write(optionReply(option, REP_ACK));
      if (option === OPT_GO) return true;
      continue;
    }
    // Structured replies, meta contexts, lists, TLS, extended headers: not offered.
    socket.write(optionReply(option, REP_ERR_UNSUP));
  }
}

async function serve(socket: Socket, chain: VhdxChain, exportName: string): Promise<void> {
  const reader = new Reader(socket);
  if (!(await negotiate(socket, reader, exportName, chain.virtualSize))) return void socket.end();
  for (;;) {
    const request = await reader.read(28);
    if (request.readUInt32BE(0) !== REQUEST_MAGIC) throw new Error("the client sent a request without the request magic");
    const type = request.readUInt16BE(6);
    const handle = request.subarray(8, 16);
    const offset = Number(request.readBigUInt64BE(16));
    const length = request.readUInt32BE(24);
    if (type === CMD_DISC) return void socket.end();
    if (type === CMD_READ) {
      if (length > MAX_READ || offset + length > chain.virtualSize) {
        socket.write(simpleReply(EINVAL, handle));
        continue;
      }
      const data = Buffer.alloc(length);
      await chain.read(data, offset);
      socket.write(simpleReply(0, handle, data));
    } else if (type === CMD_FLUSH) {
      socket.write(simpleReply(0, handle));
    } else {
      // A write carries its data: consume it so the stream stays in step, then refuse.
      if (type === 1) await reader.read(length);
      socket.write(simpleReply(type === 1 || type === 4 ? EPERM : EINVAL, handle));
    }
  }
}

/** Serves `chain` read-only on 127.0.0.1:`port` under `exportName` until closed. */
export async function startChainNbdServer(chain: VhdxChain, port: number, exportName: string): Promise<ChainNbdServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    // A client that breaks the protocol loses its connection, never the server.
    serve(socket, chain, exportName).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
