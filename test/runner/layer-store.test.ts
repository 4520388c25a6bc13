import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { LayerCache } from "../../src/cache/layer-cache.ts";
import type { DriverCapabilities } from "../../src/hypervisors/driver.ts";
import type { PlanStep } from "../../src/recipe/plan-model.ts";
import { chooseLayerStore, keepStateFor, type LayerStoreKind } from "../../src/runner/layers/layer-store.ts";

const KINDS = { "01-os": "os-install", "02-app": "app", "03-app": "app", "04-seal": "seal" } as const;
const steps = (["01-os", "02-app", "03-app", "04-seal"] as const).map((id, i) => ({ id, kind: KINDS[id], hash: String(i).repeat(64) }) as PlanStep);
const cache = new LayerCache("/cache/layers");
const capabilities = (layersOutliveVm: boolean): DriverCapabilities => ({ layersOutliveVm, memoryResume: layersOutliveVm, exportFormats: ["qcow2"] });
const store = (noCache: boolean, layersOutliveVm: boolean) =>
  chooseLayerStore({ steps, noCache, capabilities: capabilities(layersOutliveVm), driverName: "remote", cache, workDir: "/work", tailPath: "/work/tail.qcow2" });

const choices: { name: string; noCache: boolean; outlive: boolean; kind: LayerStoreKind; paths: string[]; freezes: boolean[] }[] = [
  {
    name: "a cached build on a driver whose layers outlive the VM writes into the shared cache and freezes after every step",
    noCache: false,
    outlive: true,
    kind: "shared-cache",
    paths: [...steps.map((s) => cache.layerPath(s.hash)), "/work/tail.qcow2"],
    freezes: [true, true, true, true],
  },
  {
    name: "--no-cache writes one layer in the work dir, frozen once after the last step",
    noCache: true,
    outlive: true,
    kind: "single",
    paths: ["/work/disk.qcow2", "/work/disk.qcow2", "/work/disk.qcow2", "/work/disk.qcow2", "/work/tail.qcow2"],
    freezes: [false, false, false, true],
  },
  ...[false, true].map((noCache) => ({
    name: `a driver whose layers go with the VM keeps them for the build only${noCache ? ", --no-cache or not" : ""}`,
    noCache,
    outlive: false,
    kind: "private" as const,
    paths: [...steps.map((s, i) => join("/work", `0${i}-${s.id}.qcow2`)), "/work/tail.qcow2"],
    freezes: [true, true, true, true],
  })),
];
for (const c of choices) {
  test(c.name, async () => {
    const chosen = store(c.noCache, c.outlive);
    assert.equal(chosen.kind, c.kind);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => chosen.writePath(i)), c.paths);
    assert.deepEqual([0, 1, 2, 3].map((i) => chosen.freezesAfter(i)), c.freezes);
    if (c.kind !== "shared-cache") {
      assert.deepEqual(await chosen.resume(), { prefix: 0 });
      assert.deepEqual(chosen.checkpointOptions(1, true), {}, "nothing is saved beside a layer no later build sees");
    }
  });
}

test("the shared cache keeps a running VM's memory state at the likely resume points, not before the last step", () => {
  const shared = store(false, true);
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => shared.checkpointOptions(i, true).saveState !== undefined),
    [true, true, false, false],
  );
  assert.equal(shared.checkpointOptions(1, false).saveState, undefined, "a powered-off VM has no memory state");
  assert.equal(shared.checkpointOptions(2, true).saveFirmwareVars, cache.companionPath(steps[2]!.hash, "firmwareVars"), "UEFI variables are kept with every layer");
});

test("memory state is kept only before the steps that change between builds (updates, apps, custom scripts)", () => {
  const demo = (["os-install", "hypervisor-tools", "app", "app", "target-device", "seal"] as const).map((kind) => ({ kind }));
  const keep = keepStateFor(demo);
  // Changing the last app resumes from the layer below it; a new target-device version boots from the last app's layer.
  assert.deepEqual(demo.map((_, i) => keep(i)), [false, true, true, false, false, false]);
  const windows = (["os-install", "updates", "driver", "hypervisor-tools", "app", "vda", "custom", "seal"] as const).map((kind) => ({ kind }));
  assert.deepEqual(windows.map((_, i) => keepStateFor(windows)(i)), [true, false, false, true, false, true, false, false]);
});
