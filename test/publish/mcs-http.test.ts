/** Contract tests of the XO snapshot and CVAD catalog providers against local HTTP servers. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createXoSnapshot, deleteXoSnapshot } from "../../src/publish/mcs/xo-snapshot.ts";
import { createCatalogImage, deleteCatalogImage, updateCatalogImage } from "../../src/publish/mcs/catalog-image.ts";
import { HttpError } from "../../src/publish/mcs/http.ts";

interface Seen { method: string; url: string; headers: IncomingMessage["headers"]; body: unknown }

async function serve(handler: (seen: Seen) => { status: number; body?: unknown }): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (d: Buffer) => (text += d.toString()));
    req.on("end", () => {
      const request = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: text ? JSON.parse(text) : undefined };
      seen.push(request);
      const answer = handler(request);
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`, seen, server };
}

const env = { XO_TOKEN: "xo-secret", CVAD_TOKEN: "cvad-secret" };

describe("XO snapshot provider (contract)", () => {
  let xo: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    xo = await serve((r) => (r.method === "POST" && r.url === "/rest/v0/vms/vm-1/actions/snapshot?sync=true" && r.headers.cookie === "authenticationToken=xo-secret" ? { status: 200, body: "snap-9" } : r.method === "DELETE" ? { status: 200 } : { status: 400, body: { error: "bad request" } }));
  });
  after(() => xo.server.close());

  it("contract: creates the snapshot with the token cookie and the name, deletes it by id", async () => {
    const inputs = { url: xo.url, tokenRef: "env:XO_TOKEN", vmUuid: "vm-1", snapshotName: "w11-1.4.0" };
    const created = await createXoSnapshot(inputs, { env });
    assert.equal(created.id, "snap-9");
    assert.deepEqual(xo.seen[0]?.body, { name_label: "w11-1.4.0" });
    await deleteXoSnapshot(created.id, created.outs, { env });
    assert.equal(xo.seen[1]?.url, "/rest/v0/vm-snapshots/snap-9");
  });

  it("contract: an error answer names the call and the status", async () => {
    await assert.rejects(createXoSnapshot({ url: xo.url, tokenRef: "env:XO_TOKEN", vmUuid: "other", snapshotName: "s" }, { env }), (e: unknown) => e instanceof HttpError && /POST .*\/vms\/other\/actions\/snapshot.* 400/.test(e.message));
  });
});

describe("CVAD catalog master image provider (contract)", () => {
  let cvad: Awaited<ReturnType<typeof serve>>;
  let image = "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\w11-1.3.0.snapshot";
  before(async () => {
    cvad = await serve((r) => {
      if (r.headers.authorization !== "CWSAuth Bearer=cvad-secret" || r.headers["citrix-customerid"] !== "corp" || r.headers["citrix-instanceid"] !== "site-1") return { status: 401, body: { error: "unauthorized" } };
      if (r.method === "GET" && r.url === "/cvad/manage/MachineCatalogs/cat-1") return { status: 200, body: { ProvisioningScheme: { MasterImagePath: image } } };
      if (r.method === "POST" && r.url === "/cvad/manage/MachineCatalogs/cat-1/$UpdateProvisioningScheme?async=false") {
        const body = r.body as { MasterImagePath?: string };
        if (!body.MasterImagePath) return { status: 400, body: { error: "MasterImagePath required" } };
        image = body.MasterImagePath;
        return { status: 200, body: {} };
      }
      return { status: 404 };
    });
  });
  after(() => cvad.server.close());

  it("contract: updates the master image with reboot options, then rolls back to the previous image", async () => {
    const inputs = { url: cvad.url, customerId: "corp", siteId: "site-1", tokenRef: "env:CVAD_TOKEN", catalogId: "cat-1", masterImagePath: "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\w11-1.4.0.snapshot", reboot: "rolling" as const, rebootWarningMinutes: 15 };
    const created = await createCatalogImage(inputs, { env });
    assert.equal(created.outs.previousImagePath, "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\w11-1.3.0.snapshot");
    assert.deepEqual(cvad.seen.at(-1)?.body, { MasterImagePath: inputs.masterImagePath, StoreOldImage: true, RebootOptions: { RebootDuration: -1, WarningDuration: 15, WarningMessage: "This machine restarts to pick up a new image." } });
    const next = { ...inputs, masterImagePath: "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\w11-1.5.0.snapshot", reboot: "none" as const };
    const updated = await updateCatalogImage("cat-1", created.outs, next, { env });
    assert.equal(updated.outs.previousImagePath, inputs.masterImagePath);
    assert.equal((cvad.seen.at(-1)?.body as { RebootOptions?: unknown }).RebootOptions, undefined);
    await deleteCatalogImage("cat-1", updated.outs, { env });
    assert.equal(image, inputs.masterImagePath);
  });
});
