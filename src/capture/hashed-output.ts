/**
 * A capture's output file: written strictly front to back, every byte hashed on its way to the
 * file, under `<path>.partial` until complete and flushed, then renamed. On error or abort the
 * partial file is removed and nothing appears under the final name.
 */
import { createHash } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";

export const PARTIAL_SUFFIX = ".partial";

/** Writes at increasing offsets, hashing each buffer before it is handed to the file. */
export class HashingWriter {
  private readonly hash = createHash("sha256");
  private position = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: FileHandle,
    private readonly onWritten: (bytesDone: number) => void,
  ) {}

  /**
   * Hashes `data` and queues its write; resolves once the previous write is done, so at most
   * two writes are outstanding. `release` runs when `data` may be reused.
   */
  async write(data: Buffer, release?: () => void): Promise<void> {
    this.hash.update(data);
    const at = this.position;
    this.position += data.length;
    const previous = this.pending;
    this.pending = previous.then(async () => {
      await writeFully(this.file, data, at);
      release?.();
      this.onWritten(at + data.length);
    });
    this.pending.catch(() => undefined); // awaited by the next write or by finish()
    await previous;
  }

  async finish(): Promise<{ size: number; sha256: string }> {
    await this.pending;
    return { size: this.position, sha256: this.hash.digest("hex") };
  }

  /** Waits for the outstanding write without caring how it ended, before the file is closed. */
  async settle(): Promise<void> {
    await this.pending.catch(() => undefined);
  }
}

async function writeFully(file: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await file.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** Runs `body` against a hashing writer on `<outPath>.partial`, then flushes and renames it. */
export async function writeHashedFile(outPath: string, body: (writer: HashingWriter) => Promise<void>, onWritten: (bytesDone: number) => void = () => undefined): Promise<{ size: number; sha256: string }> {
  const partialPath = outPath + PARTIAL_SUFFIX;
  let output: FileHandle | undefined = await open(partialPath, "w");
  try {
    const writer = new HashingWriter(output, onWritten);
    try {
      await body(writer);
      const result = await writer.finish();
      // Flushed before the rename so a crash never leaves a truncated file under the final name.
      await output.sync();
      await output.close();
      output = undefined;
      await rename(partialPath, outPath);
      return result;
    } finally {
      await writer.settle();
    }
  } catch (error) {
    await output?.close().catch(() => undefined);
    await rm(partialPath, { force: true });
    throw error;
  }
}
