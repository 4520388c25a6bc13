import { test } from "node:test";
import assert from "node:assert/strict";
import { BLOCKMAP_FORMAT, type Blockmap } from "../../src/distribute/blockmap.ts";
import { DeltaPlanError, planDelta } from "../../src/distribute/delta-plan.ts";

const map = (blocks: string[], blockSize = 10, size = blocks.length * blockSize): Blockmap => ({ format: BLOCKMAP_FORMAT, blockSize, size, sha256: "x", blocks });

const cases: { name: string; target: Blockmap; base?: Blockmap; kinds: string; send: number; local: number }[] = [
  { name: "no base: every block is sent", target: map(["a", "b"]), kinds: "send send", send: 20, local: 0 },
  { name: "same blocks at the same place are kept", target: map(["a", "b", "c"]), base: map(["a", "b", "c"]), kinds: "keep keep keep", send: 0, local: 0 },
  { name: "a changed block is sent, the rest kept", target: map(["a", "X", "c"]), base: map(["a", "b", "c"]), kinds: "keep send keep", send: 10, local: 0 },
  { name: "blocks shifted by whole blocks are copied inside the site", target: map(["n", "a", "b"]), base: map(["a", "b"]), kinds: "send local local", send: 10, local: 20 },
  { name: "a grown file sends only the new tail", target: map(["a", "b", "c"]), base: map(["a", "b"]), kinds: "keep keep send", send: 10, local: 0 },
  { name: "a short last block of the base is never reused", target: map(["a", "t"]), base: map(["a", "t"], 10, 15), kinds: "keep send", send: 10, local: 0 },
];

for (const c of cases) {
  test(`delta plan: ${c.name}`, () => {
    const plan = planDelta(c.target, c.base);
    assert.equal(plan.actions.map((a) => a.kind).join(" "), c.kinds);
    assert.equal(plan.sendBytes, c.send);
    assert.equal(plan.localBytes, c.local);
  });
}

test("a base with another block size is refused, naming both sizes", () => {
  assert.throws(() => planDelta(map(["a"], 10), map(["a"], 20)), (e: unknown) => e instanceof DeltaPlanError && /20-byte/.test(e.message) && /10-byte/.test(e.message));
});
