import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { diffPlans } from "../../src/recipe/diff.ts";
import { renderDiff } from "../../src/recipe/render-diff.ts";
import { renderPlan } from "../../src/recipe/render-plan.ts";
import { assertSnapshot } from "../support/snapshot.ts";
import { diffSnapshot, FORMATS, PLAN_RECIPES, planned, planSnapshot } from "./plan-render.snapshots.ts";

type Reboot = "never" | "if-required" | "always";
const MARK: Readonly<Record<Reboot, string>> = { never: "", "if-required": "reboot if asked", always: "reboot" };

/**
 * The steps each fixture recipe must plan to, in order, with their reboots (seed 000: OS, updates,
 * drivers and tools, apps, VDA; MCS then domain join, seal, shutdown; PVS then the target-device
 * software and a seal with no shutdown and no domain join).
 */
const STEPS: Readonly<Record<(typeof PLAN_RECIPES)[number], readonly (readonly [id: string, reboot: Reboot])[]>> = {
  "plan-win-mcs": [
    ["01-os-install", "never"], ["02-updates", "if-required"], ["03-driver-netdrv", "if-required"], ["04-hypervisor-tools-vmware-tools", "if-required"],
    ["05-app-7zip", "if-required"], ["06-app-vcredist", "if-required"], ["07-app-lob-client", "always"], ["08-custom-disable-store-auto-updates", "never"],
    ["09-vda", "always"], ["10-domain-join", "always"], ["11-seal", "never"], ["12-shutdown", "never"],
  ],
  "plan-win-pvs": [["01-os-install", "never"], ["02-updates", "if-required"], ["03-app-7zip", "if-required"], ["04-vda", "always"], ["05-target-device", "always"], ["06-seal", "never"]],
  "plan-linux-mcs": [
    ["01-os-install", "never"], ["02-custom-motd", "never"], ["03-updates", "if-required"], ["04-hypervisor-tools-qemu-guest-agent", "if-required"],
    ["05-app-htop", "never"], ["06-vda", "always"], ["07-seal", "never"], ["08-shutdown", "never"],
  ],
};

/** The steps a rendering lists, in its order, as [id, reboot mark], read back from the text. */
function listedSteps(rendered: string, format: (typeof FORMATS)[number]): [string, string][] {
  if (format === "markdown") {
    return [...rendered.matchAll(/^\| \d+ \| .*?<br>`([^`]+)` \| [^|]* \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]);
  }
  const rows = [...rendered.matchAll(/^ *\d+ {2}\S+ {2,}.*$/gm)].map((m) => m[0]);
  const ids = [...rendered.matchAll(/^ +id (\S+) {2}why:/gm)].map((m) => m[1]!);
  return ids.map((id, i) => [id, /reboot if asked$/.test(rows[i]!) ? "reboot if asked" : / reboot$/.test(rows[i]!) ? "reboot" : ""]);
}

describe("plan snapshots", () => {
  for (const recipe of PLAN_RECIPES) {
    it(`${recipe}: the plan lists its steps in order with their reboots`, async () => {
      const { plan } = await planned(`recipes/${recipe}.yaml`);
      assert.deepEqual(plan.steps.map((s) => [s.id, s.reboot]), STEPS[recipe]);
    });
    for (const format of FORMATS) {
      it(`${recipe} as ${format} matches the snapshot and shows every step, in order, with its reboot`, async () => {
        const rendered = await assertSnapshot(planSnapshot(recipe, format));
        assert.deepEqual(listedSteps(rendered, format), STEPS[recipe].map(([id, reboot]) => [id, MARK[reboot]]));
      });
    }
  }

  it("json carries recipe, hash, steps with id, kind, title, hash, and warnings", async () => {
    const { plan } = await planned("recipes/plan-win-mcs.yaml");
    const json = JSON.parse(renderPlan(plan, "json"));
    assert.deepEqual(json.recipe, { name: "plan-win-mcs", version: "1.0.0", file: "recipes/plan-win-mcs.yaml" });
    assert.match(json.hash, /^[a-f0-9]{64}$/);
    assert.deepEqual(json.steps.map((s: { id: string; reboot: string }) => [s.id, s.reboot]), STEPS["plan-win-mcs"]);
    for (const step of json.steps) for (const key of ["id", "kind", "title", "hash", "reason", "reboot", "commands"]) assert.ok(key in step, key);
    assert.equal(json.warnings.length, 1);
  });
});

describe("diff snapshots", () => {
  /** 1.0.0 -> 1.1.0 of plan-win-mcs: what changed, and where the rebuild starts. */
  const COMPONENTS = [
    ["bumped", "7zip", "24.08", "24.09"],
    ["bumped", "Citrix VDA", "2402.0.100.629", "2407.0.0.1"],
    ["removed", "vcredist", "14.40", ""],
    ["removed", "lob-client", "2.1", ""],
  ];
  const REBUILD = /Rebuild from step 5 of 10 \(05-app-7zip: Install 7zip 24\.09\); steps 1-4 are reused from the layer cache/;

  it("plan-win-mcs 1.0.0 -> 1.1.0: components bumped and removed, settings changed, first rerun step", async () => {
    const diff = diffPlans(await planned("recipes/plan-win-mcs.yaml"), await planned("next/plan-win-mcs.yaml"));
    assert.deepEqual(diff.bumped.map((b) => [b.name, b.from, b.to]), [["7zip", "24.08", "24.09"], ["citrix-vda", "2402.0.100.629", "2407.0.0.1"]]);
    assert.deepEqual(diff.removed.map((r) => [r.name, r.version]), [["vcredist", "14.40"], ["lob-client", "2.1"]]);
    assert.deepEqual(diff.added, []);
    assert.deepEqual(diff.settings.map((s) => s.path), ["metadata.version", "seal.cleanup"]);
    assert.deepEqual([diff.firstRerun?.id, diff.reusedSteps, diff.totalSteps], ["05-app-7zip", 4, 10]);
  });

  for (const format of FORMATS) {
    it(`plan-win-mcs 1.0.0 -> 1.1.0 as ${format} matches the snapshot and shows each change and the first rerun step`, async () => {
      const rendered = await assertSnapshot(diffSnapshot(format));
      const rows = format === "markdown"
        ? [...rendered.matchAll(/^\| (bumped|removed|added) \| (?:app `([^`]+)`|([^|]+?)) \| ([^|]*?) \| ([^|]*?) \|$/gm)].map((m) => [m[1], m[2] ?? m[3], m[4], m[5]])
        : [...rendered.matchAll(/^ {2}(bumped|removed|added) +(?:app )?(.+?) {2,}(\S+) -> (\S+)$/gm)].map((m) => [m[1], m[2], m[3], m[4] === "-" ? "" : m[4]]);
      assert.deepEqual(rows, COMPONENTS);
      assert.match(rendered, REBUILD);
    });
  }

  it("an unchanged recipe says so", async () => {
    const plan = await planned("recipes/plan-win-pvs.yaml");
    assert.match(renderDiff(diffPlans(plan, plan), "markdown"), /No change to the image/);
    assert.match(renderDiff(diffPlans(plan, plan), "text"), /No change to the image/);
  });
});
