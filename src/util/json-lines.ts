/**
 * Splits the byte stream of a QEMU JSON protocol (QMP, guest agent) into messages. Both send one
 * JSON object per line; the guest agent may also send a 0xFF sentinel after which everything
 * before it is stale (guest-sync-delimited), so the decoder drops the partial line it holds.
 */

/** The sentinel byte of guest-sync-delimited: the client discards everything before it. */
export const SYNC_SENTINEL = 0xff;
const NEWLINE = 0x0a;

export class JsonLineDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onGarbage: (line: string) => void = () => {}) {}

  /** Feeds a chunk; returns the complete messages it finished. */
  push(chunk: Buffer): unknown[] {
    const messages: unknown[] = [];
    let data = Buffer.concat([this.pending, chunk]);
    for (;;) {
      const sentinel = data.indexOf(SYNC_SENTINEL);
      const newline = data.indexOf(NEWLINE);
      if (sentinel !== -1 && (newline === -1 || sentinel < newline)) {
        const before = data.subarray(0, sentinel).toString("utf8").trim();
        if (before) this.onGarbage(before);
        data = data.subarray(sentinel + 1);
        continue;
      }
      if (newline === -1) break;
      const line = data.subarray(0, newline).toString("utf8").trim();
      data = data.subarray(newline + 1);
      if (!line) continue;
      try {
        messages.push(JSON.parse(line));
      } catch {
        this.onGarbage(line);
      }
    }
    this.pending = data;
    return messages;
  }
}
