import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { JsonLineDecoder } from "../../src/util/json-lines.ts";

describe("JsonLineDecoder", () => {
  const cases: { name: string; chunks: (string | Buffer)[]; messages: unknown[]; garbage: string[] }[] = [
    { name: "splits lines and joins chunks", chunks: ['{"a":1}\n{"b"', ":2}\r\n"], messages: [{ a: 1 }, { b: 2 }], garbage: [] },
    { name: "drops a partial line before the 0xFF sentinel", chunks: ['{"ret', Buffer.from([0xff]), '{"return":5}\n'], messages: [{ return: 5 }], garbage: ['{"ret'] },
    { name: "reports lines that are not JSON and goes on", chunks: ["not json\n", '{"ok":true}\n'], messages: [{ ok: true }], garbage: ["not json"] },
    { name: "keeps an unfinished line for the next chunk", chunks: ['{"x":'], messages: [], garbage: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const garbage: string[] = [];
      const decoder = new JsonLineDecoder((line) => garbage.push(line));
      const messages = c.chunks.flatMap((chunk) => decoder.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
      assert.deepEqual(messages, c.messages);
      assert.deepEqual(garbage, c.garbage);
    });
  }
});
