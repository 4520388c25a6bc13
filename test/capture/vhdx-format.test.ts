import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32c } from "../../src/capture/crc32c.ts";
import {
  GUID,
  MIB,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_ZERO,
  VhdxParameterError,
  encodeBat,
  encodeHeaderSection,
  encodeMetadataRegion,
  encodeParentLocator,
  guidToText,
  guidToBytes,
  randomGuid,
  vhdxLayout,
  type VhdxIdentity,
} from "../../src/capture/vhdx-format.ts";

const GIB = 1024 * MIB;
const identity: VhdxIdentity = {
  fileWriteGuid: randomGuid(Buffer.alloc(16, 1)),
  dataWriteGuid: randomGuid(Buffer.alloc(16, 2)),
  virtualDiskId: randomGuid(Buffer.alloc(16, 3)),
};

const layouts = [
  { virtualSize: 64 * MIB, blockSize: 2 * MIB, chunkRatio: 2048, payloadBlocks: 32, batEntries: 32, batLength: MIB },
  { virtualSize: 4 * GIB, blockSize: 32 * MIB, chunkRatio: 128, payloadBlocks: 128, batEntries: 128, batLength: MIB },
  { virtualSize: 4 * GIB + 512, blockSize: 32 * MIB, chunkRatio: 128, payloadBlocks: 129, batEntries: 130, batLength: MIB },
  { virtualSize: 3 * MIB + 512, blockSize: 1 * MIB, chunkRatio: 4096, payloadBlocks: 4, batEntries: 4, batLength: MIB },
  { virtualSize: 64 * 1024 * GIB, blockSize: 1 * MIB, chunkRatio: 4096, payloadBlocks: 64 * 1024 * 1024, batEntries: 67125247, batLength: 513 * MIB },
];

for (const expected of layouts) {
  test(`a ${expected.virtualSize}-byte disk in ${expected.blockSize / MIB} MiB blocks has ${expected.batEntries} BAT entries with bitmap entries interleaved`, () => {
    const layout = vhdxLayout(expected.virtualSize, expected.blockSize);
    assert.deepEqual(
      { virtualSize: layout.virtualSize, blockSize: layout.blockSize, chunkRatio: layout.chunkRatio, payloadBlocks: layout.payloadBlocks, batEntries: layout.batEntries, batLength: layout.batLength },
      expected,
    );
    assert.equal(layout.payloadOffset, layout.batOffset + layout.batLength);
    assert.equal(layout.payloadOffset % MIB, 0);
  });
}

const badParameters = [
  { name: "a size that is not a multiple of 512", virtualSize: 1000, blockSize: 2 * MIB, message: /multiple of 512/ },
  { name: "a zero size", virtualSize: 0, blockSize: 2 * MIB, message: /positive multiple/ },
  { name: "a size above 64 TiB", virtualSize: 65 * 1024 * GIB, blockSize: 2 * MIB, message: /64 TiB/ },
  { name: "a block size that is not a power of two", virtualSize: GIB, blockSize: 3 * MIB, message: /power of two/ },
  { name: "a block size above 256 MiB", virtualSize: GIB, blockSize: 512 * MIB, message: /256 MiB/ },
  { name: "a block size below 1 MiB", virtualSize: GIB, blockSize: MIB / 2, message: /1 MiB/ },
];
for (const { name, virtualSize, blockSize, message } of badParameters) {
  test(`the layout rejects ${name}`, () => {
    assert.throws(() => vhdxLayout(virtualSize, blockSize), (error: unknown) => error instanceof VhdxParameterError && message.test(error.message));
  });
}

test("GUIDs are stored with Data1..Data3 little-endian and Data4 as bytes", () => {
  assert.equal(guidToBytes(GUID.batRegion).toString("hex"), "6677c22d23f600429d64115e9bfd4a08");
});

test("random GUIDs carry the version 4 and RFC 4122 variant bits", () => {
  const guid = randomGuid(Buffer.alloc(16, 0xff));
  assert.equal(guid[7]! >> 4, 4);
  assert.equal(guid[8]! >> 6, 0b10);
});

test("the header section has the signature, two checksummed headers and two identical region tables", () => {
  const layout = vhdxLayout(64 * MIB, 2 * MIB);
  const section = encodeHeaderSection(layout, identity, "rebake");
  assert.equal(section.length, MIB);
  assert.equal(section.subarray(0, 8).toString("latin1"), "vhdxfile");
  assert.equal(section.subarray(8, 20).toString("utf16le"), "rebake");
  for (const [at, sequence] of [[64 * 1024, 1n], [128 * 1024, 2n]] as const) {
    const header = Buffer.from(section.subarray(at, at + 4096));
    assert.equal(header.subarray(0, 4).toString("latin1"), "head");
    assert.equal(header.readBigUInt64LE(8), sequence);
    assert.ok(header.subarray(16, 32).equals(identity.fileWriteGuid));
    assert.ok(header.subarray(48, 64).equals(Buffer.alloc(16)), "LogGuid is zero: nothing to replay");
    assert.equal(header.readUInt16LE(66), 1);
    assert.equal(header.readUInt32LE(68), MIB);
    assert.equal(header.readBigUInt64LE(72), BigInt(MIB));
    const checksum = header.readUInt32LE(4);
    header.writeUInt32LE(0, 4);
    assert.equal(crc32c(header), checksum);
  }
  const table1 = Buffer.from(section.subarray(192 * 1024, 256 * 1024));
  const table2 = section.subarray(256 * 1024, 320 * 1024);
  assert.ok(table1.equals(table2));
  assert.equal(table1.subarray(0, 4).toString("latin1"), "regi");
  assert.equal(table1.readUInt32LE(8), 2);
  assert.ok(table1.subarray(16, 32).equals(guidToBytes(GUID.batRegion)));
  assert.equal(table1.readBigUInt64LE(32), BigInt(layout.batOffset));
  assert.equal(table1.readUInt32LE(40), layout.batLength);
  assert.ok(table1.subarray(48, 64).equals(guidToBytes(GUID.metadataRegion)));
  const checksum = table1.readUInt32LE(4);
  table1.writeUInt32LE(0, 4);
  assert.equal(crc32c(table1), checksum);
});

test("the metadata region lists the five items of a dynamic disk without parent", () => {
  const layout = vhdxLayout(4 * GIB + 512, 32 * MIB);
  const region = encodeMetadataRegion(layout, identity);
  assert.equal(region.subarray(0, 8).toString("latin1"), "metadata");
  const count = region.readUInt16LE(10);
  const items = new Map<string, { data: Buffer; flags: number }>();
  for (let i = 0; i < count; i++) {
    const entry = 32 + i * 32;
    const offset = region.readUInt32LE(entry + 16);
    const length = region.readUInt32LE(entry + 20);
    assert.ok(offset >= 64 * 1024);
    items.set(region.subarray(entry, entry + 16).toString("hex"), { data: region.subarray(offset, offset + length), flags: region.readUInt32LE(entry + 24) });
  }
  const item = (guid: string) => items.get(guidToBytes(guid).toString("hex"))!;
  assert.equal(items.size, 5);
  assert.equal(item(GUID.fileParameters).data.readUInt32LE(0), 32 * MIB);
  assert.equal(item(GUID.fileParameters).data.readUInt32LE(4), 0, "LeaveBlocksAllocated=0, HasParent=0");
  assert.equal(item(GUID.fileParameters).flags, 0b100);
  assert.equal(item(GUID.virtualDiskSize).data.readBigUInt64LE(0), BigInt(4 * GIB + 512));
  assert.equal(item(GUID.virtualDiskSize).flags, 0b110);
  assert.ok(item(GUID.virtualDiskId).data.equals(identity.virtualDiskId));
  assert.equal(item(GUID.logicalSectorSize).data.readUInt32LE(0), 512);
  assert.equal(item(GUID.physicalSectorSize).data.readUInt32LE(0), 4096);
});

test("the BAT gives present blocks consecutive offsets, other blocks ZERO and bitmap entries 0", () => {
  const layout = vhdxLayout(4 * GIB + 512, 32 * MIB); // chunk ratio 128, 129 payload blocks
  const bat = encodeBat(layout, [0, 127, 128]);
  const entry = (index: number) => bat.readBigUInt64LE(index * 8);
  const present = (n: number) => BigInt(layout.payloadOffset + n * layout.blockSize) | BigInt(PAYLOAD_BLOCK_FULLY_PRESENT);
  assert.equal(entry(0), present(0));
  assert.equal(entry(1), BigInt(PAYLOAD_BLOCK_ZERO));
  assert.equal(entry(127), present(1));
  assert.equal(entry(128), 0n, "the sector bitmap entry after the first chunk");
  assert.equal(entry(129), present(2), "block 128 sits after the bitmap entry");
  assert.equal(entry(130), 0n, "past the last entry");
});

test("the BAT rejects present blocks out of order or out of range", () => {
  const layout = vhdxLayout(64 * MIB, 2 * MIB);
  assert.throws(() => encodeBat(layout, [3, 2]), VhdxParameterError);
  assert.throws(() => encodeBat(layout, [32]), VhdxParameterError);
});

const differencingLayouts = [
  // Every chunk, the last partial one too, ends with its sector bitmap entry ([MS-VHDX] 2.5).
  { virtualSize: 64 * MIB, blockSize: 2 * MIB, batEntries: 2049 },
  { virtualSize: 4 * GIB + 512, blockSize: 32 * MIB, batEntries: 2 * 129 },
  { virtualSize: 4 * GIB, blockSize: 32 * MIB, batEntries: 129 },
];

for (const expected of differencingLayouts) {
  test(`a differencing ${expected.virtualSize}-byte disk in ${expected.blockSize / MIB} MiB blocks has ${expected.batEntries} BAT entries`, () => {
    assert.equal(vhdxLayout(expected.virtualSize, expected.blockSize, true).batEntries, expected.batEntries);
  });
}

test("the parent locator holds its keys and values as UTF-16LE at the offsets its entries give", () => {
  const linkage = randomGuid(Buffer.alloc(16, 9));
  const item = encodeParentLocator({ parentLinkage: linkage, relativePath: "ws2022.vhdx", absoluteWin32Path: "D:\\Store\\ws2022.vhdx" });
  assert.ok(item.subarray(0, 16).equals(guidToBytes(GUID.vhdxParentLocatorType)));
  const pairs = new Map<string, string>();
  for (let i = 0; i < item.readUInt16LE(18); i++) {
    const entry = 20 + i * 12;
    const key = item.toString("utf16le", item.readUInt32LE(entry), item.readUInt32LE(entry) + item.readUInt16LE(entry + 8));
    pairs.set(key, item.toString("utf16le", item.readUInt32LE(entry + 4), item.readUInt32LE(entry + 4) + item.readUInt16LE(entry + 10)));
  }
  assert.deepEqual(Object.fromEntries(pairs), { parent_linkage: guidToText(linkage), relative_path: "ws2022.vhdx", absolute_win32_path: "D:\\Store\\ws2022.vhdx" });
  assert.match(guidToText(linkage), /^\{[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\}$/);
});

test("a differencing layout refuses metadata without a parent locator, and a dynamic one refuses a locator", () => {
  const parent = { parentLinkage: randomGuid(Buffer.alloc(16, 9)), relativePath: "p.vhdx" };
  assert.throws(() => encodeMetadataRegion(vhdxLayout(64 * MIB, 2 * MIB, true), identity), VhdxParameterError);
  assert.throws(() => encodeMetadataRegion(vhdxLayout(64 * MIB, 2 * MIB), identity, parent), VhdxParameterError);
});
