/** The XDHyp path of an MCS snapshot: resource pools and the whole snapshot chain, as Citrix's terraform provider builds it; no VM folder elements (see the builder's comment). */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mcsSnapshotPath, McsPathError, type McsSnapshotPlacement } from "../../src/hypervisors/mcs-snapshot-path.ts";

describe("MCS snapshot path", () => {
  const cases: { unit: string; vm: string; placement: McsSnapshotPlacement; expected: string }[] = [
    // Citrix's own vCenter example (citrix/citrix-mcs-sdk-samples VMware/ProvScheme/Update Master Image/Update-MasterImage.ps1).
    { unit: "MyNetwork", vm: "MyVM", placement: { resourcePools: [], snapshotChain: ["MySnapshot"] }, expected: "XDHyp:\\HostingUnits\\MyNetwork\\MyVM.vm\\MySnapshot.snapshot" },
    { unit: "HU-Lab", vm: "golden", placement: { resourcePools: [], snapshotChain: ["ws2022-3.2.0-b42"] }, expected: "XDHyp:\\HostingUnits\\HU-Lab\\golden.vm\\ws2022-3.2.0-b42.snapshot" },
    {
      unit: "HU-Lab",
      vm: "golden",
      placement: { resourcePools: [], snapshotChain: ["ws2022-3.1.0-b40", "ws2022-3.2.0-b42"] },
      expected: "XDHyp:\\HostingUnits\\HU-Lab\\golden.vm\\ws2022-3.1.0-b40.snapshot\\ws2022-3.2.0-b42.snapshot",
    },
    {
      unit: "HU-Cluster01",
      vm: "W11-GOLD",
      placement: { resourcePools: ["VDI", "Golden"], snapshotChain: ["layer-a", "layer-b", "w11-1.4.0"] },
      expected: "XDHyp:\\HostingUnits\\HU-Cluster01\\VDI.resourcepool\\Golden.resourcepool\\W11-GOLD.vm\\layer-a.snapshot\\layer-b.snapshot\\w11-1.4.0.snapshot",
    },
    { unit: "Unit With Spaces", vm: "vm.01", placement: { resourcePools: [], snapshotChain: ["snap"] }, expected: "XDHyp:\\HostingUnits\\Unit With Spaces\\vm.01.vm\\snap.snapshot" },
  ];
  for (const { unit, vm, placement, expected } of cases) {
    test(`follows resource pools and the snapshot chain: ${expected}`, () => {
      assert.equal(mcsSnapshotPath(unit, vm, placement), expected);
    });
  }

  const refused: { unit: string; vm: string; placement: McsSnapshotPlacement; why: string }[] = [
    { unit: "", vm: "vm", placement: { resourcePools: [], snapshotChain: ["s"] }, why: "an empty hosting unit" },
    { unit: "HU", vm: "a\\b", placement: { resourcePools: [], snapshotChain: ["s"] }, why: "a backslash in the VM name" },
    { unit: "HU", vm: "vm", placement: { resourcePools: ["p\\q"], snapshotChain: ["s"] }, why: "a backslash in a resource pool" },
    { unit: "HU", vm: "vm", placement: { resourcePools: [], snapshotChain: [] }, why: "no snapshot" },
    { unit: "HU", vm: "vm", placement: { resourcePools: [], snapshotChain: ["a", " "] }, why: "an empty snapshot in the chain" },
  ];
  for (const { unit, vm, placement, why } of refused) {
    test(`refuses ${why}`, () => {
      assert.throws(() => mcsSnapshotPath(unit, vm, placement), McsPathError);
    });
  }
});
