/** The release rules, each as a table: promotion order and direction, revocation, retention, the policy file, the audit state, change-log wording, drift. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { judgePin, type PinRequest } from "../../src/release/promotion-rules.ts";
import { ownRetention, withSharedRetention } from "../../src/release/retention.ts";
import { parseReleasePolicy } from "../../src/release/release-policy.ts";
import { releaseState } from "../../src/release/release-state.ts";
import { parseAuditLog, type AuditEntry, type RuleOverride } from "../../src/release/audit-log.ts";
import { direction } from "../../src/publish/changelog.ts";
import { driftOf, versionsInStore, type StackStatus } from "../../src/publish/release-status.ts";

const ORDER = ["dev", "test", "prod"];

describe("pin rules", () => {
  const cases: { name: string; request: Partial<PinRequest>; overrides?: RuleOverride[]; refused: string[]; overridden?: RuleOverride[]; downgrade?: boolean }[] = [
    { name: "the next stage, a newer version", request: { from: "dev", to: "test", current: "3.1.0", next: "3.2.0" }, refused: [] },
    { name: "the same version again", request: { from: "dev", to: "test", current: "3.2.0", next: "3.2.0" }, refused: [] },
    { name: "skipping a stage", request: { from: "dev", to: "prod", current: "3.0.2", next: "3.2.0" }, refused: ["promote-skips-stage"] },
    { name: "skipping a stage, overridden", request: { from: "dev", to: "prod", current: "3.0.2", next: "3.2.0" }, overrides: ["out-of-order"], refused: [], overridden: ["out-of-order"] },
    { name: "against the order to an older version", request: { from: "prod", to: "dev", current: "3.2.0", next: "3.0.2" }, refused: ["promote-against-order", "promote-downgrade"], downgrade: true },
    { name: "against the order, only the order overridden", request: { from: "prod", to: "dev", current: "3.2.0", next: "3.0.2" }, overrides: ["out-of-order"], refused: ["promote-downgrade"], overridden: ["out-of-order"], downgrade: true },
    { name: "against the order, both overridden", request: { from: "prod", to: "dev", current: "3.2.0", next: "3.0.2" }, overrides: ["out-of-order", "downgrade"], refused: [], overridden: ["out-of-order", "downgrade"], downgrade: true },
    { name: "an older version to the next stage", request: { from: "dev", to: "test", current: "3.10.0", next: "3.9.1" }, refused: ["promote-downgrade"], downgrade: true },
    { name: "an override nobody needed is not recorded", request: { from: "dev", to: "test", current: "3.1.0", next: "3.2.0" }, overrides: ["downgrade"], refused: [], overridden: [] },
    { name: "the same stage", request: { from: "test", to: "test", current: "3.1.0", next: "3.1.0" }, refused: ["promote-same-stage"] },
    { name: "a stage outside the order", request: { from: "dev", to: "staging", current: "3.1.0", next: "3.2.0" }, refused: ["promote-unknown-stage"] },
    { name: "a revoked version, whatever the overrides", request: { from: "dev", to: "test", current: "3.1.0", next: "3.2.0", revoked: "by rm: crash" }, overrides: ["out-of-order", "downgrade"], refused: ["pin-revoked"], overridden: [] },
    { name: "a rollback (no source stage) is not a refused downgrade", request: { to: "prod", current: "3.2.0", next: "3.0.2" }, refused: [], downgrade: true },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.refused.join(", ") || "allowed"}`, () => {
      const verdict = judgePin({ stackOrder: ORDER, to: "test", current: "1", next: "1", ...c.request, overrides: new Set(c.overrides ?? []) } as PinRequest);
      assert.deepEqual(verdict.refused.map((b) => b.rule), c.refused);
      assert.deepEqual(verdict.overridden, c.overridden ?? []);
      assert.equal(verdict.downgrade, c.downgrade ?? false);
    });
  }
});

describe("retention", () => {
  const cases: { name: string; pinned: string; published: string[]; keep: number; revoked?: string[]; expected: string[] }[] = [
    { name: "keeps the pin and the newest earlier version", pinned: "3.2.0", published: ["3.2.0", "3.1.0", "3.0.2"], keep: 2, expected: ["3.2.0 pinned", "3.1.0 rollback"] },
    { name: "keeps only the pin with keepVersions 1", pinned: "3.2.0", published: ["3.2.0", "3.1.0"], keep: 1, expected: ["3.2.0 pinned"] },
    { name: "skips revoked versions for rollbacks", pinned: "3.2.0", published: ["3.2.0", "3.1.0", "3.0.2"], keep: 2, revoked: ["3.1.0"], expected: ["3.2.0 pinned", "3.0.2 rollback"] },
    { name: "keeps a pin never published yet", pinned: "3.3.0", published: ["3.2.0"], keep: 3, expected: ["3.3.0 pinned", "3.2.0 rollback"] },
    { name: "keeps a rolled-back-to pin and the newer versions published after it", pinned: "3.0.2", published: ["3.2.0", "3.0.2", "3.0.1"], keep: 2, revoked: ["3.2.0"], expected: ["3.0.2 pinned", "3.0.1 rollback"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const kept = ownRetention({ pinned: c.pinned, published: c.published, keepVersions: c.keep, isRevoked: (v) => (c.revoked ?? []).includes(v) });
      assert.deepEqual(kept.map((k) => `${k.version} ${k.why}`), c.expected);
    });
  }
  it("adds what stacks sharing a store keep, once, naming the stack", () => {
    const own = [{ version: "3.1.0", why: "pinned" as const }, { version: "3.0.2", why: "rollback" as const }];
    const kept = withSharedRetention(own, [{ stack: "prod", kept: [{ version: "3.0.2", why: "pinned" }, { version: "3.0.0", why: "rollback" }] }]);
    assert.deepEqual(kept.map((k) => `${k.version} ${k.why}`), ["3.1.0 pinned", "3.0.2 rollback", "3.0.0 kept by prod"]);
  });
});

describe("release policy in Pulumi.yaml", () => {
  const head = "name: rebake\nruntime: nodejs\n";
  const cases: { name: string; text: string; expected?: { stackOrder: string[]; keepVersions: number }; problem?: RegExp }[] = [
    { name: "defaults without config", text: head, expected: { stackOrder: ["dev", "test", "prod"], keepVersions: 2 } },
    { name: "project config defaults", text: `${head}config:\n  stackOrder:\n    type: array\n    default: [lab, pilot, live]\n  keepVersions:\n    type: integer\n    default: 3\n`, expected: { stackOrder: ["lab", "pilot", "live"], keepVersions: 3 } },
    { name: "plain values", text: `${head}config:\n  stackOrder: [a, b]\n  keepVersions: 1\n`, expected: { stackOrder: ["a", "b"], keepVersions: 1 } },
    { name: "a stack twice", text: `${head}config:\n  stackOrder:\n    default: [dev, dev]\n`, problem: /Pulumi\.yaml:5:14 .*release-stack-order.*names a stack twice/ },
    { name: "not a list", text: `${head}config:\n  stackOrder:\n    default: dev\n`, problem: /release-stack-order.*must list stack names/ },
    { name: "keepVersions 0", text: `${head}config:\n  keepVersions:\n    default: 0\n`, problem: /Pulumi\.yaml:5:14 .*release-keep-versions.*at least 1.*got: 0/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.expected) assert.deepEqual(parseReleasePolicy(c.text), c.expected);
      else assert.throws(() => parseReleasePolicy(c.text), c.problem!);
    });
  }
  it("every problem at once", () => {
    assert.throws(() => parseReleasePolicy(`${head}config:\n  stackOrder: [a, a]\n  keepVersions: -1\n`), (e: Error) => /2 problems/.test(e.message));
  });
});

describe("release state from the audit log", () => {
  const entry = (action: AuditEntry["action"], version: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({ action, at: "t", who: "rm", commit: "c", image: "img", version, stacks: ["prod"], ...extra });
  const cases: { name: string; entries: AuditEntry[]; revoked: string[]; published: string[] }[] = [
    { name: "publishes newest first, each once", entries: [entry("publish", "1"), entry("publish", "2"), entry("publish", "1")], revoked: [], published: ["1", "2"] },
    { name: "a rollback revokes what it abandons", entries: [entry("publish", "1"), entry("publish", "2"), entry("rollback", "1", { previous: "2" })], revoked: ["2"], published: ["2", "1"] },
    { name: "un-revoke undoes a revoke", entries: [entry("revoke", "2"), entry("unrevoke", "2")], revoked: [], published: [] },
    { name: "a revoke after an un-revoke holds", entries: [entry("revoke", "2"), entry("unrevoke", "2"), entry("revoke", "2")], revoked: ["2"], published: [] },
    { name: "other images and stacks do not count", entries: [entry("publish", "9", { image: "other" }), entry("revoke", "9", { image: "other" }), entry("publish", "3", { stacks: ["dev"] })], revoked: [], published: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const state = releaseState(c.entries, "img");
      assert.deepEqual(["1", "2", "3", "9"].filter((v) => state.revocation(v)), c.revoked);
      assert.deepEqual(state.publishedTo("prod"), c.published);
    });
  }
  it("a damaged line is named, not skipped", () => {
    assert.throws(() => parseAuditLog(`${JSON.stringify(entry("publish", "1"))}\n{"action":"publish"\n`), /releases\/audit\.jsonl:2: not a JSON object/);
    assert.throws(() => parseAuditLog(`{"action":"deploy","image":"i","version":"1","stacks":[]}\n`), /:1: not an audit entry/);
  });
});

describe("change-log wording", () => {
  const cases: [string, string, string][] = [
    ["7zip 24.07", "7zip 24.08", "bumped"],
    ["7zip 24.09", "7zip 24.07", "downgraded"],
    ["VDA 2407", "VDA 2402", "downgraded"],
    ["notepad++ 8.6.9", "notepad++ 8.6.10", "bumped"],
    ["Install 7zip", "Install 7-Zip", "changed"],
    ["7zip 24.07", "peazip 9.0", "changed"],
  ];
  for (const [from, to, kind] of cases) it(`${from} -> ${to} is ${kind}`, () => assert.equal(direction(from, to), kind));
});

describe("drift", () => {
  const row = (extra: Partial<StackStatus>): Omit<StackStatus, "drift"> => ({ stack: "prod", image: "img", version: "3.0.2", verified: "passed", published: "t", keep: [], sites: [], catalogs: [], ...extra });
  const kept = new Map([["/s", new Set(["3.0.2", "3.0.1"])]]);
  const cases: { name: string; row: Omit<StackStatus, "drift">; drift: RegExp[] }[] = [
    { name: "none when the store holds what is kept", row: row({ sites: [{ site: "HQ", store: "/s", versions: ["3.0.2", "3.0.1"] }] }), drift: [] },
    { name: "the pinned version missing from a store", row: row({ sites: [{ site: "HQ", store: "/s", versions: ["3.0.1"] }] }), drift: [/site HQ: store \/s does not hold the pinned 3\.0\.2/] },
    { name: "a version no stack keeps", row: row({ sites: [{ site: "HQ", store: "/s", versions: ["3.0.2", "2.0.0"] }] }), drift: [/store holds 2\.0\.0, which no stack keeps/] },
    { name: "an unreachable store is not drift", row: row({ sites: [{ site: "HQ", store: "/s", unreachable: "timeout" }] }), drift: [] },
    { name: "a catalog on another image", row: row({ catalogs: [{ catalog: "C", expected: "XDHyp:\\a", serves: "XDHyp:\\b" }] }), drift: [/catalog C uses XDHyp:\\b, not the pinned XDHyp:\\a/] },
    { name: "a revoked pin", row: row({ revoked: "by rm" }), drift: [/pins 3\.0\.2, which is revoked/] },
    { name: "a pin never published", row: row({ published: undefined }), drift: [/never published to prod/] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const drift = driftOf(c.row, kept);
      assert.equal(drift.length, c.drift.length, drift.join("\n"));
      c.drift.forEach((pattern, i) => assert.match(drift[i]!, pattern));
    });
  }
  it("reads versions from the store's vDisk names", () => {
    assert.deepEqual(versionsInStore(["ws2022-apps-3.0.2.vhdx", "ws2022-apps-3.0.2.pvp", "ws2022-apps-3.1.0.VHDX", "other-1.vhdx"], "ws2022-apps"), ["3.0.2", "3.1.0"]);
  });
});
