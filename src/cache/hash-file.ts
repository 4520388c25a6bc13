/** sha256 of a file, streamed so multi-gigabyte ISOs never sit in memory. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, signal ? { signal } : {})) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
