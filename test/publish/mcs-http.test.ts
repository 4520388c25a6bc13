/** Contract tests of the XO snapshot provider against a local HTTP server. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createXoSnapshot, deleteXoSnapshot } from "../../src/publish/mcs/xo-snapshot.ts";
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

const env = { XO_TOKEN: "xo-secret" };

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
