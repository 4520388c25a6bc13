import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { psQuote } from "../../src/util/powershell-quote.ts";
import { findPwsh, PWSH_INSTALL_HINT } from "../../src/util/pwsh.ts";
import { shQuote } from "../../src/util/sh-quote.ts";

/** Values a secret may hold that end or expand a naively quoted string. */
const HOSTILE = ["plain", "it's", "a'b''c", "$HOME `id` $(id) ${x}", "‘curly’ ‚low‛", "new\nline", "", "back\\slash", '"double"', "; rm -rf / #"];


test("sh: every value comes back byte for byte from a real sh", () => {
  const script = HOSTILE.map((value) => `printf '%s\\0' ${shQuote(value)}`).join("\n");
  const out = execFileSync("sh", ["-c", script], { encoding: "utf8" });
  assert.deepEqual(out.split("\0").slice(0, -1), HOSTILE);
});

test("PowerShell: every value comes back byte for byte from a real pwsh, typographic quotes included", () => {
  const pwsh = findPwsh();
  assert.ok(pwsh, `pwsh is not installed: ${PWSH_INSTALL_HINT}`);
  const script = `$OutputEncoding = [Text.UTF8Encoding]::new($false); [Console]::OutputEncoding = $OutputEncoding; @(${HOSTILE.map(psQuote).join(", ")}) | ForEach-Object { [Console]::Out.Write($_ + [char]0) }`;
  const out = execFileSync(pwsh, ["-NoProfile", "-NonInteractive", "-Command", script], { encoding: "utf8" });
  assert.deepEqual(out.split("\0").slice(0, -1), HOSTILE);
});
