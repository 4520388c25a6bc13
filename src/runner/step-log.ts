/**
 * One log file per step (`<out>/logs/<step>.log`): every guest command's output as it arrives,
 * with secret values masked, plus the runner's own notes (uploads, reboots, exit codes).
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { redact } from "../recipe/secrets.ts";
import { maskSecrets } from "../recipe/secret-patterns.ts";

export class StepLog {
  readonly #stream: WriteStream;
  readonly #secrets: readonly string[];

  private constructor(
    readonly path: string,
    stream: WriteStream,
    secrets: readonly string[],
  ) {
    this.#stream = stream;
    this.#secrets = secrets.filter((s) => s.length > 0);
  }

  static async open(path: string, secrets: readonly string[] = []): Promise<StepLog> {
    const stream = createWriteStream(path, { flags: "a" });
    await once(stream, "open");
    return new StepLog(path, stream, secrets);
  }

  write(text: string): void {
    this.#stream.write(this.redact(text));
  }

  note(clock: Date, text: string): void {
    this.write(`[rebake ${clock.toISOString()}] ${text}\n`);
  }

  redact(text: string): string {
    // The values handed out, and whatever still looks like a credential (a literal that slipped past validation).
    return maskSecrets(redact(text, this.#secrets));
  }

  async close(): Promise<void> {
    if (this.#stream.closed) return;
    this.#stream.end();
    await once(this.#stream, "close");
  }
}
