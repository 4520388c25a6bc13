/**
 * A local CVAD REST server for contract tests, driven by test/contracts/cvad-openapi.yaml (built
 * from Citrix's published models, citrix/citrix-daas-rest-go; each schema cites its model file):
 * openapi-backend routes every request and validates it (path, query, the Citrix-CustomerId and
 * Citrix-InstanceId headers, the CWSAuth bearer token, the body), and validates every response
 * this server gives before it is sent. Anything the document does not allow is a violation,
 * answered 400/401/404/405 (or 500 for a response of ours that does not match), so a test fails
 * on the first call Citrix's API would refuse.
 *
 * Behaviour beyond the schemas, with its source:
 * - $UpdateProvisioningScheme starts a job; with async=true the answer is 202 and a Location
 *   header to the job (docs/MachineCatalogsAPIsDAAS.md). The image changes only when the job
 *   completes, which takes `jobPolls` polls of GET /Jobs/{id} (client/client.go WaitForJob polls
 *   while Unknown/NotStarted/InProgress).
 * - A failed job ends Failed with an ErrorString (model_job_response_model.go).
 * - The catalog's current image is ProvisioningScheme.MasterImage.XDPath
 *   (model_hypervisor_resource_ref_response_model.go).
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import path from "node:path";
import { OpenAPIBackend, type Context, type Document } from "openapi-backend";
import { parse } from "yaml";

const DOCUMENT = path.resolve(import.meta.dirname, "../contracts/cvad-openapi.yaml");
const API_ROOT = "/cvad/manage";
/**
 * Citrix's action paths start with a literal '$' ($UpdateProvisioningScheme). openapi-backend
 * matches them, but its path-parameter parser (bath-es5) reads '$' as a regex anchor and loses
 * {nameOrId}; the server therefore routes the percent-encoded form, which names the same path.
 */
const encodeDollar = (p: string) => p.replaceAll("$", "%24");

function loadDocument(): Document {
  const document = parse(readFileSync(DOCUMENT, "utf8")) as Document & { paths: Record<string, unknown> };
  return { ...document, paths: Object.fromEntries(Object.entries(document.paths).map(([p, item]) => [encodeDollar(p), item])) } as Document;
}

interface Job {
  readonly id: string;
  readonly catalogId: string;
  readonly imagePath: string;
  readonly failure?: string;
  polls: number;
}

export interface CvadCatalog {
  readonly id: string;
  readonly name: string;
  /** ProvisioningScheme.MasterImage.XDPath; undefined for a catalog without MCS provisioning. */
  imagePath?: string;
}

export interface CvadContractServer {
  readonly url: string;
  readonly token: string;
  readonly customerId: string;
  readonly siteId: string;
  readonly catalogs: Map<string, CvadCatalog>;
  /** Requests or responses the document does not allow; a passing contract test leaves this empty. */
  readonly violations: string[];
  /** Every request as "METHOD path?query". */
  readonly requests: string[];
  /** Bodies of the $UpdateProvisioningScheme calls, in order. */
  readonly updates: unknown[];
  /** The next image update's job ends Failed with this ErrorString. */
  failNextJob(errorString: string): void;
  close(): Promise<void>;
}

export interface CvadContractOptions {
  /** Polls a job answers InProgress before it ends. @default 2 */
  readonly jobPolls?: number;
  readonly catalogs?: readonly CvadCatalog[];
}

export async function startCvadContractServer(options: CvadContractOptions = {}): Promise<CvadContractServer> {
  const token = randomUUID();
  const customerId = "rebake-customer";
  const siteId = randomUUID();
  const catalogs = new Map((options.catalogs ?? []).map((c) => [c.id, { ...c }]));
  const jobs = new Map<string, Job>();
  const violations: string[] = [];
  const requests: string[] = [];
  const updates: unknown[] = [];
  let nextFailure: string | undefined;
  const jobPolls = options.jobPolls ?? 2;

  interface Answer { status: number; body?: unknown; headers?: Record<string, string> }
  const refuse = (c: Context, status: number, why: string): Answer => {
    violations.push(`${c.request.method.toUpperCase()} ${c.request.path}: ${why}`);
    return { status, body: { ErrorMessage: why } };
  };

  const api = new OpenAPIBackend({ definition: loadDocument(), apiRoot: API_ROOT, strict: true, validate: true });
  api.registerSecurityHandler("BearerAuth", (c) => c.request.headers["authorization"] === `CWSAuth Bearer=${token}`);
  api.register({
    MachineCatalogsGetMachineCatalog: (c): Answer => {
      const catalog = catalogs.get(String(c.request.params["nameOrId"]));
      if (!catalog) return { status: 404, body: { ErrorMessage: `machine catalog ${String(c.request.params["nameOrId"])} not found` } };
      return { status: 200, body: catalogDetail(catalog) };
    },
    MachineCatalogsUpdateMachineCatalogProvisioningScheme: (c): Answer => {
      const catalog = catalogs.get(String(c.request.params["nameOrId"]));
      if (!catalog) return { status: 404, body: { ErrorMessage: `machine catalog ${String(c.request.params["nameOrId"])} not found` } };
      const body = c.request.requestBody as { MasterImagePath?: string };
      updates.push(body);
      if (!body.MasterImagePath) return refuse(c, 400, "rebake updates the image: MasterImagePath is required for that");
      const job: Job = { id: randomUUID(), catalogId: catalog.id, imagePath: body.MasterImagePath, polls: 0, ...(nextFailure ? { failure: nextFailure } : {}) };
      nextFailure = undefined;
      jobs.set(job.id, job);
      const asynchronous = String(c.request.query["async"]) === "true";
      return asynchronous ? { status: 202, headers: { location: `${API_ROOT}/Jobs/${job.id}` } } : { status: 200, body: jobModel(job, "NotStarted") };
    },
    JobsGetJob: (c): Answer => {
      const job = jobs.get(String(c.request.params["id"]));
      if (!job) return { status: 404, body: { ErrorMessage: "job not found" } };
      job.polls++;
      if (job.polls < jobPolls) return { status: 200, body: jobModel(job, "InProgress") };
      if (job.failure) return { status: 200, body: { ...jobModel(job, "Failed"), ErrorString: job.failure } };
      const catalog = catalogs.get(job.catalogId)!;
      catalog.imagePath = job.imagePath;
      return { status: 200, body: jobModel(job, "Complete") };
    },
    validationFail: (c): Answer => refuse(c, 400, (c.validation.errors ?? []).map((e) => `${e.instancePath || "(request)"} ${e.message ?? ""}`).join("; ")),
    notFound: (c): Answer => refuse(c, 404, "not an operation of the CVAD API this contract covers"),
    methodNotAllowed: (c): Answer => refuse(c, 405, "method not allowed on this path"),
    unauthorizedHandler: (c): Answer =>
      c.request.headers["authorization"] === undefined ? refuse(c, 401, "no Authorization header") : { status: 401, body: { ErrorMessage: "invalid bearer token" } },
    postResponseHandler: (c): Answer => {
      const answer = c.response as Answer;
      if (!c.operation) return answer;
      const problems = [
        ...(answer.body === undefined ? [] : (c.api.validateResponse(answer.body, c.operation, answer.status).errors ?? [])),
        ...(c.api.validateResponseHeaders(answer.headers ?? {}, c.operation, { statusCode: answer.status }).errors ?? []),
      ];
      if (problems.length === 0) return answer;
      return refuse(c, 500, `the test server's own ${answer.status} answer breaks the contract: ${problems.map((e) => `${e.instancePath} ${e.message ?? ""}`).join("; ")}`);
    },
  });
  await api.init();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const text = Buffer.concat(chunks).toString();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        violations.push(`${req.method} ${url.pathname}: body is not JSON`);
        res.writeHead(400).end();
        return;
      }
      void (api.handleRequest({
        method: req.method ?? "GET",
        path: encodeDollar(decodeURIComponent(url.pathname)),
        query: Object.fromEntries(url.searchParams),
        headers: req.headers as Record<string, string | string[]>,
        body,
      }) as Promise<Answer>).then(
        (answer) => {
          res.writeHead(answer.status, { ...(answer.body === undefined ? {} : { "content-type": "application/json" }), ...answer.headers });
          res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
        },
        (error: unknown) => {
          violations.push(`${req.method} ${url.pathname}: ${(error as Error).message}`);
          res.writeHead(500).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    customerId,
    siteId,
    catalogs,
    violations,
    requests,
    updates,
    failNextJob: (errorString) => (nextFailure = errorString),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A MachineCatalogDetailResponseModel with the fields its constructor requires. */
function catalogDetail(catalog: CvadCatalog) {
  return {
    Name: catalog.name,
    Id: catalog.id,
    AllocationType: "Random",
    AvailableCount: 0,
    IsRemotePC: false,
    MachineType: "MCS",
    MinimumFunctionalLevel: "L7_20",
    HasBeenPromoted: false,
    CanRollbackVMImage: true,
    CanRecreateCatalog: false,
    PersistChanges: "Discard",
    ProvisioningType: catalog.imagePath ? "MCS" : "Manual",
    SessionSupport: "MultiSession",
    SharingKind: "Shared",
    TotalCount: 2,
    IsBroken: false,
    UnassignedCount: 2,
    UsedCount: 0,
    Zone: { Id: "00000000-0000-0000-0000-000000000001", Name: "Primary" },
    DeliveryGroups: [],
    ...(catalog.imagePath ? { ProvisioningScheme: { Id: randomUUID(), Name: catalog.name, MasterImage: { XDPath: catalog.imagePath, ResourceType: "Snapshot" } } } : {}),
  };
}

function jobModel(job: Job, status: string) {
  const created = new Date(0).toISOString();
  return {
    Id: job.id,
    Type: "UpdateMachineCatalogProvisioningScheme",
    Parameters: [{ Name: "Id", Value: job.catalogId }, { Name: "MasterImageXDPath", Value: job.imagePath }],
    Status: status,
    CreationTime: created,
    FormattedCreationTime: created,
  };
}
