import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32c } from "../../src/capture/crc32c.ts";

// Check values from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check string.
const cases: { name: string; data: Buffer; crc: number }[] = [
  { name: "the empty input", data: Buffer.alloc(0), crc: 0x00000000 },
  { name: "the check string 123456789", data: Buffer.from("123456789"), crc: 0xe3069283 },
  { name: "32 zero bytes", data: Buffer.alloc(32, 0x00), crc: 0x8a9136aa },
  { name: "32 0xff bytes", data: Buffer.alloc(32, 0xff), crc: 0x62a8ab43 },
  { name: "32 ascending bytes", data: Buffer.from(Array.from({ length: 32 }, (_, i) => i)), crc: 0x46dd794e },
];

for (const { name, data, crc } of cases) {
  test(`crc32c of ${name} matches the published check value`, () => {
    assert.equal(crc32c(data), crc);
  });
}
