import { test } from "node:test";
import assert from "node:assert/strict";
import { TokenBucket, type Clock } from "../../src/distribute/token-bucket.ts";

function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return { slept, now: () => now, sleep: async (ms) => { slept.push(ms); now += ms; } };
}

test("a token bucket lets one second's worth through at once, then paces to the rate", async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket(1000, clock);
  await bucket.take(1000);
  assert.deepEqual(clock.slept, []);
  await bucket.take(500);
  assert.deepEqual(clock.slept, [500]);
  await bucket.take(2000);
  assert.equal(clock.now(), 2500);
});

test("sending 10x the rate takes about 9 seconds after the first burst", async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket(100, clock);
  for (let i = 0; i < 100; i++) await bucket.take(10);
  assert.ok(Math.abs(clock.now() - 9000) < 1, `took ${clock.now()} ms`);
});

test("a bucket without a positive rate is refused", () => {
  assert.throws(() => new TokenBucket(0), /above 0/);
});
