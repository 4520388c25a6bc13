/** Input text reaches a terminal escaped: control characters are shown, never obeyed. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { safeText } from "../../src/cli/safe-io.ts";
import { CLEAR_LINE, escapeControl, escapeOutput } from "../../src/util/terminal-text.ts";

describe("escapeControl", () => {
  const cases: ReadonlyArray<readonly [what: string, input: string, shown: string]> = [
    ["an ANSI colour (ESC [)", "\x1b[31mred", "\\u001b[31mred"],
    ["a screen clear", "\x1b[2J", "\\u001b[2J"],
    ["an OSC title with BEL", "\x1b]0;pwned\x07", "\\u001b]0;pwned\\u0007"],
    ["a one-byte C1 CSI", "\u009b31m", "\\u009b31m"],
    ["a bare carriage return (overwrites the line)", "ok\rFAIL", "ok\\u000dFAIL"],
    ["a backspace", "a\bb", "a\\u0008b"],
    ["DEL", "a\x7f", "a\\u007f"],
    ["a NUL", "a\x00b", "a\\u0000b"],
    ["newlines, tabs and CRLF stay", "a\tb\r\nc\n", "a\tb\r\nc\n"],
    ["plain and non-ASCII text stays", "Zürich → ok", "Zürich → ok"],
  ];
  for (const [what, input, shown] of cases) it(what, () => assert.equal(escapeControl(input), shown));
});

describe("escapeOutput", () => {
  it("keeps rebake's own clear-line sequence and escapes everything else", () => {
    assert.equal(escapeOutput(`${CLEAR_LINE}> step \x1b[31m`), `${CLEAR_LINE}> step \\u001b[31m`);
  });
  it("keeps JSON valid while escaping", () => {
    const json = JSON.stringify({ key: "\u009b31m" });
    assert.doesNotMatch(safeText(json), /\u009b/);
    assert.deepEqual(JSON.parse(safeText(json)), { key: "\u009b31m" });
  });
});
