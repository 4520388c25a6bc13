/**
 * Every PowerShell text rebake generates or ships goes through PowerShell's own parser (pwsh,
 * one process for all of them): none may have a parse error.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { describeErrors, parseAll } from "../support/powershell.ts";
import { powershellTexts } from "./powershell-texts.ts";

const parsed = await parseAll(await powershellTexts());

describe("PowerShell's parser finds no error in what rebake generates or ships", () => {
  for (const text of parsed) {
    it(text.name, () => assert.deepEqual(describeErrors(text.errors), []));
  }
});
