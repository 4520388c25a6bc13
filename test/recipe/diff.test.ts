import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { diffPlans } from "../../src/recipe/diff.ts";
import type { Recipe } from "../../src/recipe/model.ts";
import { edited, fixtureRecipe, planOf } from "./plan-fixtures.ts";

async function diffOf(before: Recipe, after: Recipe) {
  return diffPlans({ recipe: before, plan: await planOf(before) }, { recipe: after, plan: await planOf(after) });
}

const base = () => fixtureRecipe("plan-win-mcs");

describe("diffPlans", () => {
  const cases: {
    name: string;
    edit: (r: any) => void;
    bumped?: string[];
    added?: string[];
    removed?: string[];
    changed?: string[];
    settings?: string[];
    firstRerun?: string;
  }[] = [
    { name: "an app bumped", edit: (r) => (r.apps = ["7zip@24.09", "lob-client@2.1"]), bumped: ["app 7zip 24.08 -> 24.09"], firstRerun: "05-app-7zip" },
    { name: "an app removed", edit: (r) => (r.apps = ["7zip@24.08"]), removed: ["app vcredist 14.40", "app lob-client 2.1"], firstRerun: "06-custom-disable-store-auto-updates" },
    {
      name: "a driver added",
      edit: (r) => r.drivers.push({ name: "gpu", version: "5.1", source: { path: "../files/netdrv.inf" } }),
      added: ["driver gpu 5.1"],
      firstRerun: "04-driver-gpu",
    },
    { name: "the VDA bumped", edit: (r) => (r.vda.version = "2407.0.0.1"), bumped: ["vda citrix-vda 2402.0.100.629 -> 2407.0.0.1"], firstRerun: "09-vda" },
    { name: "the tools removed", edit: (r) => delete r.hypervisorTools, removed: ["hypervisor-tools vmware-tools 12.4.5"], firstRerun: "04-app-7zip" },
    { name: "hardware changed", edit: (r) => (r.hardware.memoryMiB = 16384), changed: ["os-install os"], settings: ["hardware.memoryMiB: 8192 -> 16384"], firstRerun: "01-os-install" },
    { name: "a custom step edited", edit: (r) => (r.steps[0].run = "exit 0"), settings: ["steps[Disable Store auto-updates].run"], firstRerun: "08-custom-disable-store-auto-updates" },
    { name: "an MCS domain join dropped", edit: (r) => delete r.target.domainJoin, settings: ["target.domainJoin"], firstRerun: "10-seal" },
    { name: "only the description changed", edit: (r) => (r.metadata.description = "other words") },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, async () => {
      const diff = await diffOf(base(), edited(base(), c.edit));
      assert.deepEqual(diff.bumped.map((b) => `${b.kind} ${b.name} ${b.from} -> ${b.to}`), c.bumped ?? []);
      assert.deepEqual(diff.added.map((a) => `${a.kind} ${a.name} ${a.version}`), c.added ?? []);
      assert.deepEqual(diff.removed.map((a) => `${a.kind} ${a.name} ${a.version}`), c.removed ?? []);
      assert.deepEqual(diff.changed.map((a) => `${a.kind} ${a.name}`), c.changed ?? []);
      const settings = diff.settings.map((s) => ("from" in s && "to" in s && typeof s.from !== "string" ? `${s.path}: ${s.from} -> ${s.to}` : s.path));
      assert.deepEqual(settings, c.settings ?? []);
      assert.equal(diff.firstRerun?.id, c.firstRerun);
      assert.equal(diff.identical, c.firstRerun === undefined);
      assert.equal(diff.reusedSteps, c.firstRerun ? diff.firstRerun!.index : diff.totalSteps);
    });
  }
});
