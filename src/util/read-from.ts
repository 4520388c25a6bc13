/** Reads a growing file (a VM's console log) from a byte offset on, at most `maxBytes` at a time. */
import { open } from "node:fs/promises";

export async function readFrom(file: string, offset: number, maxBytes: number): Promise<{ text: string; offset: number }> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch {
    return { text: "", offset };
  }
  try {
    const buffer = Buffer.alloc(maxBytes);
    const { bytesRead } = await handle.read(buffer, 0, maxBytes, offset);
    // Consoles carry escape sequences and odd bytes; latin1 keeps every byte as one character.
    return { text: buffer.subarray(0, bytesRead).toString("latin1"), offset: offset + bytesRead };
  } finally {
    await handle.close();
  }
}
