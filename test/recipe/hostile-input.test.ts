/**
 * The hostile-input corpus (test/fixtures/hostile): each file is the valid base recipe or app with
 * one hostile value, and reports exactly the listed problems (rule id, line:col, severity).
 * Whatever it reports, the printed text and JSON hold no planted secret and no raw control
 * character.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { safeText } from "../../src/cli/safe-io.ts";
import { formatReport, problemsAsJson } from "../../src/recipe/format-problems.ts";
import { validatePaths } from "../../src/recipe/validate.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const DIR = "test/fixtures/hostile";

/** Every secret value planted in the corpus. */
const PLANTED = ["IsoPass-7731", "VdaPass-4410", "AppPass-9902", "CurlPass-5521", "MsiPass-1187", "LicKey-55012", "DbPwd-33190", "NetPass-8820", "ChPass-6604", "ChHere-2290", "Param-Pass77", "OptPass-9914", "AppSvc-7720"];

type Expected = readonly [rule: string, line: number, col: number, severity?: "warning"];
interface Case {
  readonly file: string;
  readonly expect: readonly Expected[];
}

const CASES: readonly Case[] = [
  { file: "app-install-empty.yaml", expect: [["schema-range", 8, 10]] },
  { file: "app-install-password-property.yaml", expect: [["secret-literal", 10, 14]] },
  { file: "app-source-directory.yaml", expect: [["input-not-file", 6, 9]] },
  { file: "app-source-ftp.yaml", expect: [["schema-pattern", 6, 8]] },
  { file: "app-source-outside.yaml", expect: [["input-outside-project", 6, 9]] },
  { file: "app-source-url-credentials.yaml", expect: [["secret-literal", 6, 8]] },
  { file: "app-success-code-fraction.yaml", expect: [["schema-type", 12, 19]] },
  { file: "app-success-code-huge.yaml", expect: [["schema-range", 12, 16]] },
  { file: "app-success-codes-empty.yaml", expect: [["schema-range", 12, 15]] },
  { file: "check-success-code-below-int32.yaml", expect: [["schema-range", 49, 20]] },
  { file: "check-success-code-fraction.yaml", expect: [["schema-type", 49, 23]] },
  { file: "check-success-code-huge.yaml", expect: [["schema-range", 49, 23]] },
  { file: "check-success-codes-empty.yaml", expect: [["schema-range", 49, 19]] },
  { file: "check-timeout-fraction.yaml", expect: [["schema-type", 49, 21]] },
  { file: "check-timeout-week.yaml", expect: [["schema-range", 49, 21]] },
  { file: "check-timeout-zero.yaml", expect: [["schema-range", 49, 21]] },
  { file: "cpus-as-text-number.yaml", expect: [["schema-type", 16, 9]] },
  { file: "cpus-fraction.yaml", expect: [["schema-type", 16, 9]] },
  { file: "cpus-too-many.yaml", expect: [["schema-range", 16, 9]] },
  { file: "disk-huge.yaml", expect: [["schema-range", 18, 12]] },
  { file: "disk-infinity.yaml", expect: [["schema-type", 18, 12]] },
  { file: "disk-negative.yaml", expect: [["schema-range", 18, 12]] },
  { file: "disk-zero.yaml", expect: [["schema-range", 18, 12]] },
  { file: "escape-c1-in-key.yaml", expect: [["schema-unknown-key", 17, 3]] },
  { file: "escape-in-key.yaml", expect: [["schema-unknown-key", 17, 3]] },
  { file: "escape-in-value.yaml", expect: [["schema-enum", 19, 13]] },
  { file: "iso-path-absolute.yaml", expect: [["input-outside-project", 10, 11]] },
  { file: "iso-path-directory.yaml", expect: [["input-not-file", 10, 11]] },
  { file: "iso-path-etc-passwd.yaml", expect: [["input-outside-project", 10, 11]] },
  { file: "iso-path-outside-with-reason.yaml", expect: [["input-outside-project", 12, 7, "warning"]] },
  { file: "iso-url-credentials.yaml", expect: [["secret-literal", 10, 10]] },
  { file: "iso-url-ftp.yaml", expect: [["schema-pattern", 10, 10]] },
  { file: "iso-url-smb.yaml", expect: [["schema-pattern", 10, 10]] },
  { file: "memory-exponent.yaml", expect: [["schema-range", 17, 14]] },
  { file: "memory-fraction.yaml", expect: [["schema-type", 17, 14]] },
  { file: "ram-cache-fraction.yaml", expect: [["schema-type", 34, 16]] },
  { file: "script-file-directory.yaml", expect: [["input-not-file", 49, 11]] },
  { file: "script-file-inside-ok.yaml", expect: [] },
  { file: "script-file-outside-with-reason.yaml", expect: [["input-outside-project", 51, 7, "warning"]] },
  { file: "script-file-outside.yaml", expect: [["input-outside-project", 49, 11]] },
  { file: "step-chpasswd-echo.yaml", expect: [["secret-literal", 49, 10]] },
  { file: "step-chpasswd-herestring.yaml", expect: [["secret-literal", 49, 10]] },
  { file: "step-curl-credentials.yaml", expect: [["secret-literal", 49, 10]] },
  { file: "step-msi-db-pwd.yaml", expect: [["secret-literal", 49, 10]] },
  { file: "step-msi-license-key.yaml", expect: [["secret-literal", 49, 10]] },
  { file: "step-msi-proxy-password.yaml", expect: [["secret-literal", 49, 10]] },
  { file: "step-net-user-prompt-ok.yaml", expect: [] },
  { file: "step-net-user.yaml", expect: [["secret-literal", 49, 10]] },
  { file: "step-password-option.yaml", expect: [["secret-literal", 49, 10]] },
  { file: "step-password-parameter.yaml", expect: [["secret-literal", 49, 10]] },
  { file: "step-securestring-env-ok.yaml", expect: [] },
  { file: "timezone-nowhere.yaml", expect: [["os-timezone", 13, 13]] },
  { file: "timezone-typo.yaml", expect: [["os-timezone", 13, 13]] },
  { file: "timezone-words.yaml", expect: [["os-timezone", 13, 13]] },
  { file: "updates-rounds-fraction.yaml", expect: [["schema-type", 25, 14]] },
  { file: "vda-path-outside-missing.yaml", expect: [["input-outside-project", 28, 11]] },
  { file: "vda-url-credentials.yaml", expect: [["secret-literal", 28, 10]] },
  { file: "vda-url-gopher.yaml", expect: [["schema-pattern", 28, 10]] },
  { file: "yaml-reserved-character.yaml", expect: [["yaml-syntax", 14, 13]] },
  { file: "yaml-self-alias-list.yaml", expect: [["yaml-alias-cycle", 44, 25]] },
  { file: "yaml-self-alias-map.yaml", expect: [["yaml-alias-cycle", 43, 29]] },
  { file: "yaml-stray-bracket.yaml", expect: [["yaml-syntax", 44, 24]] },
  { file: "yaml-unclosed-list.yaml", expect: [["yaml-syntax", 6, 11]] },
  { file: "yaml-unclosed-map.yaml", expect: [["yaml-syntax", 16, 9]] },
  { file: "yaml-unterminated-single-quote.yaml", expect: [["yaml-syntax", 4, 12]] },
];

describe("hostile input reports exact rule ids and positions", () => {
  for (const c of CASES) {
    const what = c.expect.length ? c.expect.map(([rule, line, col]) => `${rule} at ${line}:${col}`).join(", ") : "nothing";
    it(`${c.file}: ${what}`, async () => {
      const file = `${DIR}/${c.file}`;
      const result = await validatePaths([join(repo, file)], { cwd: repo });
      assert.deepEqual(
        result.problems.map((p) => [p.file, p.rule, p.line, p.col, p.severity]),
        c.expect.map(([rule, line, col, severity]) => [file, rule, line, col, severity ?? "error"]),
      );
      for (const printed of [safeText(formatReport(result.problems, 1)), safeText(problemsAsJson(result.problems, 1))]) {
        for (const secret of PLANTED) assert.ok(!printed.includes(secret), `${secret} printed:\n${printed}`);
        assert.doesNotMatch(printed, /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/, "a raw control character reached the output");
      }
    });
  }
});
