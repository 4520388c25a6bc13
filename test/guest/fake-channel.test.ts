import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeGuestChannel } from "../../src/guest/fake-channel.ts";
import { GuestDisconnectedError, GuestTimeoutError } from "../../src/guest/channel.ts";

describe("FakeGuestChannel", () => {
  it("answers exec from the first matching rule and streams its output", async () => {
    const channel = new FakeGuestChannel({ exec: [{ match: /^install/, result: { exitCode: 3, stdout: "boom\n" } }, { match: "install", result: { exitCode: 9 } }] });
    const chunks: string[] = [];
    const result = await channel.exec("install app", { shell: "sh", timeoutMs: 1_000, onOutput: (chunk) => chunks.push(chunk) });
    assert.deepEqual(result, { exitCode: 3, stdout: "boom\n", stderr: "" });
    assert.deepEqual(chunks, ["boom\n"]);
    assert.deepEqual((await channel.exec("true", { shell: "sh", timeoutMs: 1_000 })).exitCode, 0);
    assert.deepEqual(channel.scripts, ["install app", "true"]);
  });

  it("simulates a disconnect until reconnected, and timeouts of waitReady", async () => {
    const channel = new FakeGuestChannel();
    channel.disconnect();
    await assert.rejects(channel.exec("x", { shell: "sh", timeoutMs: 1 }), GuestDisconnectedError);
    channel.reconnect();
    channel.failReady(1);
    await assert.rejects(channel.waitReady(5), GuestTimeoutError);
    await channel.waitReady(5);
  });
});
