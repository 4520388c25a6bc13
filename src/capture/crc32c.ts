/**
 * CRC-32C (Castagnoli), the checksum VHDX headers and region tables carry ([MS-VHDX] 2).
 * Hand-written rather than a dependency: it only ever covers a few 4 KiB and 64 KiB structures
 * per capture, so a byte-wise table is fast enough and needs no native build.
 */

/** 0x1EDC6F41 bit-reversed, for the reflected (LSB-first) form the spec uses. */
const CASTAGNOLI_REFLECTED = 0x82f63b78;

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ CASTAGNOLI_REFLECTED : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    crc = (crc >>> 8) ^ TABLE[(crc ^ data[i]!) & 0xff]!;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
