/**
 * Bytes of a text file to a string: UTF-8 (a byte-order mark is dropped), and, where the caller
 * accepts it, UTF-16 with its byte-order mark (what spreadsheets write as "Unicode text").
 * Anything else is reported with the first bad byte and where it is.
 */
import { isUtf8 } from "node:buffer";
/** 1-based line and column. */
interface Position {
  readonly line: number;
  readonly col: number;
}

export type Decoded =
  | { readonly ok: true; readonly text: string; readonly encoding: "utf-8" | "utf-16le" | "utf-16be" }
  | ({ readonly ok: false; readonly utf16: boolean } & BadByte);

export function decodeText(bytes: Uint8Array, accept: { readonly utf16: boolean }): Decoded {
  const utf16 = utf16Bom(bytes);
  if (utf16 && accept.utf16) return { ok: true, text: new TextDecoder(utf16).decode(bytes), encoding: utf16 };
  if (isUtf8(bytes)) return { ok: true, text: new TextDecoder("utf-8").decode(bytes), encoding: "utf-8" };
  return { ok: false, utf16: utf16 !== undefined, ...badByte(bytes) };
}

function utf16Bom(bytes: Uint8Array): "utf-16le" | "utf-16be" | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  return bytes[0] === 0xfe && bytes[1] === 0xff ? "utf-16be" : undefined;
}

interface BadByte {
  readonly offset: number;
  readonly byte: number;
  readonly position: Position;
}

function badByte(bytes: Uint8Array): BadByte {
  const offset = firstInvalidUtf8(bytes);
  const lineStart = offset === 0 ? 0 : bytes.lastIndexOf(0x0a, offset - 1) + 1;
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (bytes[i] === 0x0a) line++;
  const before = Buffer.from(bytes.buffer, bytes.byteOffset + lineStart, offset - lineStart).toString("utf8");
  return { offset, byte: bytes[offset] ?? 0, position: { line, col: before.length + 1 } };
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    let length: number;
    let min = 0x80;
    let max = 0xbf;
    if (b < 0x80) length = 1;
    else if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      // Overlong forms and UTF-16 surrogates are not UTF-8.
      if (b === 0xe0) min = 0xa0;
      if (b === 0xed) max = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) min = 0x90;
      if (b === 0xf4) max = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      const lo = k === 1 ? min : 0x80;
      const hi = k === 1 ? max : 0xbf;
      if (c < lo || c > hi) return i;
    }
    i += length;
  }
  return bytes.length;
}
