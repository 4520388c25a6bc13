/** The XO snapshot provider of publish against the XO contract server, in both forms XO answers actions in. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createXoSnapshot, deleteXoSnapshot } from "../../src/publish/mcs/xo-snapshot.ts";
import { HttpError } from "../../src/publish/mcs/http.ts";
import { startXoContractServer, type XoActionForm } from "../support/xo-contract-server.ts";

describe("XO snapshot provider", () => {
  for (const actionForm of ["rest-api.mjs", "controllers"] satisfies XoActionForm[]) {
    test(`contract: ?sync=true returns the snapshot's UUID (${actionForm} form), delete removes it`, async () => {
      const xo = await startXoContractServer({ actionForm });
      try {
        const vmUuid = randomUUID();
        xo.state.vms.set(vmUuid, { id: vmUuid, name_label: "W11-GOLD", power_state: "Halted", $VBDs: [], memory: 0, template: xo.state.templates[0]!.id });
        const inputs = { url: xo.url, tokenRef: "env:XO_TOKEN", vmUuid, snapshotName: "w11-1.4.0" };
        const created = await createXoSnapshot(inputs, { env: { XO_TOKEN: xo.token } });
        assert.deepEqual([...xo.state.snapshots.values()].map((s) => [s.id, s.name_label]), [[created.id, "w11-1.4.0"]]);
        await deleteXoSnapshot(created.id, created.outs, { env: { XO_TOKEN: xo.token } });
        assert.equal(xo.state.snapshots.size, 0);
        assert.deepEqual(xo.violations, []);
      } finally {
        await xo.close();
      }
    });
  }

  test("contract: a VM XO does not know is an error naming the call and the status", async () => {
    const xo = await startXoContractServer();
    try {
      await assert.rejects(
        createXoSnapshot({ url: xo.url, tokenRef: "env:XO_TOKEN", vmUuid: randomUUID(), snapshotName: "s" }, { env: { XO_TOKEN: xo.token } }),
        (e: unknown) => e instanceof HttpError && /POST .*\/vms\/.*\/actions\/snapshot\?sync=true answered 404/.test(e.message),
      );
    } finally {
      await xo.close();
    }
  });
});
