/**
 * The CVAD catalog master-image provider against a contract server that validates every request
 * and response with openapi-backend against test/contracts/cvad-openapi.yaml (Citrix's published
 * models). The job clock is injected: no test waits for a poll interval.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCatalogImage, deleteCatalogImage, updateCatalogImage, CatalogImageError, type CatalogImageInputs } from "../../src/publish/mcs/catalog-image.ts";
import { CvadJobError } from "../../src/publish/mcs/cvad-job.ts";
import { HttpError } from "../../src/publish/mcs/http.ts";
import { rebootOptions, REBOOT_WARNING_MESSAGE } from "../../src/publish/mcs/reboot-options.ts";
import { startCvadContractServer, type CvadContractServer } from "../support/cvad-contract-server.ts";

const CATALOG = "3f1b5a2e-8c7d-4e1f-9a6b-2d4c8e0f1a3b";
const MANUAL_CATALOG = "7c0d1e2f-0000-4000-8000-000000000002";
const OLD_IMAGE = "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\w11-1.3.0.snapshot";
const NEW_IMAGE = "XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\w11-1.3.0.snapshot\\w11-1.4.0.snapshot";

/** Polls never sleep; the clock advances one poll interval per sleep. */
function instantJobs() {
  let clock = 0;
  return { pollMs: 30_000, timeoutMs: 10 * 60_000, now: () => clock, sleep: async (ms: number) => void (clock += ms) };
}

describe("CVAD catalog master image provider (contract: test/contracts/cvad-openapi.yaml)", () => {
  let cvad: CvadContractServer;
  let inputs: CatalogImageInputs;
  let env: { CVAD_TOKEN: string };
  before(async () => {
    cvad = await startCvadContractServer({ catalogs: [{ id: CATALOG, name: "W11-Pooled", imagePath: OLD_IMAGE }, { id: MANUAL_CATALOG, name: "Manual" }] });
    env = { CVAD_TOKEN: cvad.token };
    inputs = { url: cvad.url, customerId: cvad.customerId, siteId: cvad.siteId, tokenRef: "env:CVAD_TOKEN", catalogId: CATALOG, masterImagePath: NEW_IMAGE, reboot: "rolling", rebootWarningMinutes: 15, rebootDurationMinutes: 240 };
  });
  afterEach(() => {
    assert.deepEqual(cvad.violations, [], "every request and response matched Citrix's models");
    cvad.catalogs.get(CATALOG)!.imagePath = OLD_IMAGE;
  });
  after(() => cvad.close());

  it("contract: reads the current image from MasterImage.XDPath, updates asynchronously and follows the job until the image changed", async () => {
    const created = await createCatalogImage(inputs, { env, jobs: instantJobs() });
    assert.equal(created.outs.previousImagePath, OLD_IMAGE);
    assert.equal(cvad.catalogs.get(CATALOG)!.imagePath, NEW_IMAGE);
    const jobPolls = cvad.requests.filter((r) => r.startsWith("GET /cvad/manage/Jobs/"));
    assert.ok(jobPolls.length >= 2, `polled the job until it completed (${jobPolls.length} polls)`);
    assert.ok(cvad.requests.includes(`POST /cvad/manage/MachineCatalogs/${CATALOG}/$UpdateProvisioningScheme?async=true`));
  });

  it("contract: rollback (delete) puts the catalog back on the image it had", async () => {
    const created = await createCatalogImage(inputs, { env, jobs: instantJobs() });
    await deleteCatalogImage(CATALOG, created.outs, { env, jobs: instantJobs() });
    assert.equal(cvad.catalogs.get(CATALOG)!.imagePath, OLD_IMAGE);
  });

  it("contract: a new image on the same catalog makes the replaced one the rollback target", async () => {
    const created = await createCatalogImage(inputs, { env, jobs: instantJobs() });
    const next = { ...inputs, masterImagePath: `${NEW_IMAGE}\\w11-1.5.0.snapshot` };
    const updated = await updateCatalogImage(CATALOG, created.outs, next, { env, jobs: instantJobs() });
    assert.equal(updated.outs.previousImagePath, NEW_IMAGE);
    assert.equal(cvad.catalogs.get(CATALOG)!.imagePath, next.masterImagePath);
  });

  it("contract: a failed job fails the publish with the job's ErrorString and leaves the image", async () => {
    cvad.failNextJob("The snapshot XDHyp:\\HostingUnits\\HU1\\W11-GOLD.vm\\w11-1.4.0.snapshot could not be found");
    await assert.rejects(createCatalogImage(inputs, { env, jobs: instantJobs() }), (e: unknown) => e instanceof CvadJobError && /ended Failed: The snapshot .* could not be found/.test(e.message));
    assert.equal(cvad.catalogs.get(CATALOG)!.imagePath, OLD_IMAGE);
  });

  it("contract: a job still running at the deadline fails with the job named, not success", async () => {
    const slow = await startCvadContractServer({ jobPolls: 1_000, catalogs: [{ id: CATALOG, name: "W11-Pooled", imagePath: OLD_IMAGE }] });
    try {
      const mine = { ...inputs, url: slow.url, customerId: slow.customerId, siteId: slow.siteId };
      await assert.rejects(createCatalogImage(mine, { env: { CVAD_TOKEN: slow.token }, jobs: instantJobs() }), (e: unknown) => e instanceof CvadJobError && /still InProgress after 10 minutes/.test(e.message));
      assert.deepEqual(slow.violations, []);
    } finally {
      await slow.close();
    }
  });

  it("contract: a catalog without MCS provisioning is refused before any update", async () => {
    await assert.rejects(createCatalogImage({ ...inputs, catalogId: MANUAL_CATALOG }, { env, jobs: instantJobs() }), (e: unknown) => e instanceof CatalogImageError && /MasterImage\.XDPath/.test(e.message));
    assert.equal(cvad.updates.length > 0 && cvad.requests.some((r) => r.includes(MANUAL_CATALOG) && r.startsWith("POST")), false);
  });

  it("contract: a wrong token is the API's 401, named with the call", async () => {
    await assert.rejects(createCatalogImage(inputs, { env: { CVAD_TOKEN: "wrong" }, jobs: instantJobs() }), (e: unknown) => e instanceof HttpError && e.status === 401 && /GET .*MachineCatalogs/.test(e.message));
  });

  const strategies = [
    { reboot: "none", expected: { RebootDuration: -1, WarningDuration: 0 } },
    { reboot: "immediate", expected: { RebootDuration: 0, WarningDuration: 15, WarningMessage: REBOOT_WARNING_MESSAGE } },
    { reboot: "rolling", expected: { RebootDuration: 240, WarningDuration: 15, WarningMessage: REBOOT_WARNING_MESSAGE } },
  ] as const;
  for (const { reboot, expected } of strategies) {
    it(`contract: reboot "${reboot}" sends RebootDuration ${expected.RebootDuration} (Citrix: -1 no reboot, 0 now, N minutes) and the server accepts it`, async () => {
      await createCatalogImage({ ...inputs, reboot }, { env, jobs: instantJobs() });
      assert.deepEqual((cvad.updates.at(-1) as { RebootOptions: unknown }).RebootOptions, expected);
    });
  }
});

describe("reboot options", () => {
  const cases = [
    { settings: { reboot: "rolling", rebootWarningMinutes: 0, rebootDurationMinutes: 60 }, expected: { RebootDuration: 60, WarningDuration: 0 } },
    { settings: { reboot: "immediate", rebootWarningMinutes: 0, rebootDurationMinutes: 60 }, expected: { RebootDuration: 0, WarningDuration: 0 } },
    { settings: { reboot: "none", rebootWarningMinutes: 30, rebootDurationMinutes: 60 }, expected: { RebootDuration: -1, WarningDuration: 0 } },
  ] as const;
  for (const { settings, expected } of cases) {
    it(`${settings.reboot} with ${settings.rebootWarningMinutes} minutes of warning sends no warning message when there is no warning`, () => {
      assert.deepEqual(rebootOptions(settings), expected);
    });
  }
});

describe("CVAD contract server refuses what Citrix's models do not allow", () => {
  let cvad: CvadContractServer;
  before(async () => (cvad = await startCvadContractServer({ catalogs: [{ id: CATALOG, name: "W11-Pooled", imagePath: OLD_IMAGE }] })));
  after(() => cvad.close());

  const bad = [
    { why: "no Citrix-InstanceId header", headers: { "Citrix-InstanceId": undefined }, body: { MasterImagePath: NEW_IMAGE }, status: 400 },
    { why: "a RebootDuration below -1", headers: {}, body: { MasterImagePath: NEW_IMAGE, RebootOptions: { RebootDuration: -2 } }, status: 400 },
    { why: "a field the request model does not have", headers: {}, body: { MasterImage: NEW_IMAGE }, status: 400 },
    { why: "no Authorization header", headers: { authorization: undefined }, body: { MasterImagePath: NEW_IMAGE }, status: 401 },
  ] as const;
  for (const { why, headers, body, status } of bad) {
    it(`contract: ${why} is refused with ${status} and recorded`, async () => {
      const before = cvad.violations.length;
      const all: Record<string, string | undefined> = { "content-type": "application/json", authorization: `CWSAuth Bearer=${cvad.token}`, "Citrix-CustomerId": cvad.customerId, "Citrix-InstanceId": cvad.siteId, ...headers };
      const sent = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
      const response = await fetch(`${cvad.url}/cvad/manage/MachineCatalogs/${CATALOG}/$UpdateProvisioningScheme?async=true`, { method: "POST", headers: sent, body: JSON.stringify(body) });
      assert.equal(response.status, status);
      assert.equal(cvad.violations.length, before + 1, cvad.violations.join("\n"));
    });
  }

  it("contract: an operation the document does not have is a 404 violation", async () => {
    const response = await fetch(`${cvad.url}/cvad/manage/MachineCatalogs/${CATALOG}/$RollbackProvisioningScheme`, { method: "POST", headers: { authorization: `CWSAuth Bearer=${cvad.token}` } });
    assert.equal(response.status, 404);
    assert.match(cvad.violations.at(-1) ?? "", /not an operation/);
  });
});
