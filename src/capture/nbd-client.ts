/**
 * A minimal NBD client (fixed newstyle handshake, NBD_OPT_EXPORT_NAME, simple replies, READ and
 * DISC only) over a Unix socket: how capture reads the ranges of a disk that have no plain file
 * offset (compressed clusters, layers in formats other than qcow2 and raw), served by qemu-nbd.
 * Protocol: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md
 */
import { createConnection, type Socket } from "node:net";

const NBD_MAGIC = 0x4e42444d41474943n; // "NBDMAGIC"
const IHAVEOPT = 0x49484156454f5054n; // "IHAVEOPT"
const FLAG_FIXED_NEWSTYLE = 1 << 0;
const FLAG_NO_ZEROES = 1 << 1;
const OPT_EXPORT_NAME = 1;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const CMD_READ = 0;
const CMD_DISC = 2;
const REQUEST_SIZE = 28;
const SIMPLE_REPLY_SIZE = 16;
const EXPORT_ZEROES = 124;
/** qemu-nbd serves reads up to 32 MiB; smaller requests keep the socket buffers modest. */
export const MAX_READ_LENGTH = 4 * 1024 * 1024;

export class NbdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Buffers a socket's bytes and hands them out in exactly the sizes asked for. */
class SocketReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(socket: Socket, what: string) {
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.wake();
    });
    socket.on("error", (error) => this.fail(new NbdError(`${what}: ${error.message}`)));
    socket.on("close", () => this.fail(new NbdError(`${what} closed the connection`)));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Copies the next `length` bytes into `into` at `at`. */
  async readInto(into: Buffer, at: number, length: number): Promise<void> {
    let done = 0;
    while (done < length) {
      if (this.buffered === 0) {
        if (this.failure) throw this.failure;
        await new Promise<void>((resolve) => (this.waiter = resolve));
        continue;
      }
      const chunk = this.chunks[0]!;
      const take = Math.min(chunk.length, length - done);
      chunk.copy(into, at + done, 0, take);
      done += take;
      this.buffered -= take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
  }

  async read(length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    await this.readInto(out, 0, length);
    return out;
  }
}

export class NbdClient {
  private queue: Promise<void> = Promise.resolve();
  private cookie = 0n;

  private constructor(
    private readonly socket: Socket,
    private readonly reader: SocketReader,
    /** Size of the export in bytes. */
    readonly size: number,
    private readonly what: string,
  ) {}

  /** Connects to the default export at `socketPath`. */
  static async connect(socketPath: string): Promise<NbdClient> {
    const what = `NBD server at ${socketPath}`;
    const socket = createConnection({ path: socketPath });
    const reader = new SocketReader(socket, what);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", (error) => reject(new NbdError(`${what}: ${error.message}`)));
    });
    try {
      const greeting = await reader.read(18);
      if (greeting.readBigUInt64BE(0) !== NBD_MAGIC || greeting.readBigUInt64BE(8) !== IHAVEOPT) {
        throw new NbdError(`${what} does not speak the NBD newstyle protocol`);
      }
      const serverFlags = greeting.readUInt16BE(16);
      if (!(serverFlags & FLAG_FIXED_NEWSTYLE)) throw new NbdError(`${what} does not offer the fixed newstyle handshake`);
      const noZeroes = (serverFlags & FLAG_NO_ZEROES) !== 0;
      const hello = Buffer.alloc(4 + 16);
      hello.writeUInt32BE(FLAG_FIXED_NEWSTYLE | (noZeroes ? FLAG_NO_ZEROES : 0), 0);
      hello.writeBigUInt64BE(IHAVEOPT, 4);
      hello.writeUInt32BE(OPT_EXPORT_NAME, 12);
      hello.writeUInt32BE(0, 16); // the default (empty) export name
      socket.write(hello);
      const exportInfo = await reader.read(10 + (noZeroes ? 0 : EXPORT_ZEROES));
      const size = Number(exportInfo.readBigUInt64BE(0));
      return new NbdClient(socket, reader, size, what);
    } catch (error) {
      socket.destroy();
      throw error;
    }
  }

  /** Reads `length` bytes of the export at `offset` into `into` at `at`; calls are serialised. */
  read(into: Buffer, at: number, length: number, offset: number): Promise<void> {
    const run = this.queue.then(async () => {
      for (let done = 0; done < length; done += MAX_READ_LENGTH) {
        await this.readOnce(into, at + done, Math.min(MAX_READ_LENGTH, length - done), offset + done);
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readOnce(into: Buffer, at: number, length: number, offset: number): Promise<void> {
    const cookie = this.cookie++;
    this.socket.write(request(CMD_READ, cookie, offset, length));
    const reply = await this.reader.read(SIMPLE_REPLY_SIZE);
    if (reply.readUInt32BE(0) !== SIMPLE_REPLY_MAGIC || reply.readBigUInt64BE(8) !== cookie) {
      throw new NbdError(`${this.what} sent an unexpected reply to a read at ${offset}`);
    }
    const error = reply.readUInt32BE(4);
    if (error !== 0) throw new NbdError(`${this.what} failed a read of ${length} bytes at ${offset} with error ${error}`);
    await this.reader.readInto(into, at, length);
  }

  /** Tells the server the session is over (so qemu-nbd exits) and closes the socket. */
  async close(): Promise<void> {
    await this.queue;
    if (!this.socket.destroyed) {
      await new Promise<void>((resolve) => this.socket.end(request(CMD_DISC, this.cookie++, 0, 0), () => resolve()));
    }
    this.socket.destroy();
  }
}

function request(type: number, cookie: bigint, offset: number, length: number): Buffer {
  const out = Buffer.alloc(REQUEST_SIZE);
  out.writeUInt32BE(REQUEST_MAGIC, 0);
  out.writeUInt16BE(0, 4);
  out.writeUInt16BE(type, 6);
  out.writeBigUInt64BE(cookie, 8);
  out.writeBigUInt64BE(BigInt(offset), 16);
  out.writeUInt32BE(length, 24);
  return out;
}
