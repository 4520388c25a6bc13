/**
 * Points an MCS machine catalog at a new master image through the CVAD REST API, the way
 * Citrix's own terraform provider does (citrix/terraform-provider-citrix
 * internal/daas/machine_catalog/machine_catalog_mcs_pvs_utils.go updateCatalogImageAndMachineProfile):
 * read the current image from ProvisioningScheme.MasterImage.XDPath, POST
 * /MachineCatalogs/{id}/$UpdateProvisioningScheme?async=true with MasterImagePath, StoreOldImage and
 * RebootOptions, then follow the job it starts to its end (cvad-job.ts). The contract is
 * test/contracts/cvad-openapi.yaml. The previous image path is kept in state, so delete (a
 * rollback, or removing the resource) puts the catalog back on the image it had.
 */
import { environmentSecretSources, resolveSecret } from "../../recipe/secrets.ts";
import type { RebootStrategy } from "../../stacks/model.ts";
import { jobIdFromLocation, waitForJob, type JobPolling } from "./cvad-job.ts";
import { request, requestJson } from "./http.ts";
import { rebootOptions } from "./reboot-options.ts";
import type { HttpEnvironment } from "./xo-snapshot.ts";

export interface CatalogImageInputs {
  readonly url: string;
  readonly customerId: string;
  readonly siteId: string;
  readonly tokenRef: string;
  readonly catalogId: string;
  readonly masterImagePath: string;
  readonly reboot: RebootStrategy;
  readonly rebootWarningMinutes: number;
  readonly rebootDurationMinutes: number;
}

export interface CatalogImageOutputs extends CatalogImageInputs {
  /** The image the catalog used before: where delete returns it. */
  readonly previousImagePath: string;
}

/** Side effects of the provider; the job clock is injectable so tests never wait. */
export interface CatalogImageEnvironment extends HttpEnvironment {
  readonly jobs?: Pick<JobPolling, "pollMs" | "timeoutMs" | "now" | "sleep">;
}

export class CatalogImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

function headers(inputs: CatalogImageInputs, environment: HttpEnvironment): Record<string, string> {
  return {
    authorization: `CWSAuth Bearer=${resolveSecret(inputs.tokenRef, environmentSecretSources(environment.env ?? process.env))}`,
    "Citrix-CustomerId": inputs.customerId,
    "Citrix-InstanceId": inputs.siteId,
  };
}

function apiBase(inputs: CatalogImageInputs): string {
  return `${inputs.url.replace(/\/+$/, "")}/cvad/manage`;
}

function catalogUrl(inputs: CatalogImageInputs): string {
  return `${apiBase(inputs)}/MachineCatalogs/${encodeURIComponent(inputs.catalogId)}`;
}

/** The request body of $UpdateProvisioningScheme (UpdateMachineCatalogProvisioningSchemeRequestModel). */
export function updateBody(inputs: CatalogImageInputs, imagePath: string) {
  return { MasterImagePath: imagePath, StoreOldImage: true, RebootOptions: rebootOptions(inputs) };
}

async function pointAt(inputs: CatalogImageInputs, imagePath: string, environment: CatalogImageEnvironment): Promise<void> {
  const fetchImpl = environment.fetch ?? fetch;
  const auth = headers(inputs, environment);
  const started = await request(fetchImpl, "POST", `${catalogUrl(inputs)}/$UpdateProvisioningScheme?async=true`, auth, updateBody(inputs, imagePath));
  const jobId = jobIdFromLocation(started.headers.get("location"));
  await waitForJob(jobId, `catalog ${inputs.catalogId} -> ${imagePath}`, { ...environment.jobs, fetch: fetchImpl, headers: auth, apiBase: apiBase(inputs) });
}

async function currentImage(inputs: CatalogImageInputs, environment: HttpEnvironment): Promise<string> {
  const catalog = (await requestJson(environment.fetch ?? fetch, "GET", catalogUrl(inputs), headers(inputs, environment))) as {
    ProvisioningScheme?: { MasterImage?: { XDPath?: string } };
  };
  const path = catalog.ProvisioningScheme?.MasterImage?.XDPath;
  if (!path) throw new CatalogImageError(`catalog ${inputs.catalogId} has no ProvisioningScheme.MasterImage.XDPath: it is not an MCS catalog, so rebake cannot publish a snapshot to it`);
  return path;
}

/** The master image the catalog serves now (ProvisioningScheme.MasterImage.XDPath); status compares it with the stack's pin. */
export async function readCatalogImage(inputs: CatalogImageInputs, environment: HttpEnvironment = {}): Promise<string> {
  return currentImage(inputs, environment);
}

export async function createCatalogImage(inputs: CatalogImageInputs, environment: CatalogImageEnvironment = {}): Promise<{ id: string; outs: CatalogImageOutputs }> {
  const previousImagePath = await currentImage(inputs, environment);
  await pointAt(inputs, inputs.masterImagePath, environment);
  return { id: inputs.catalogId, outs: { ...inputs, previousImagePath } };
}

export function diffCatalogImage(olds: CatalogImageOutputs, news: CatalogImageInputs) {
  const replaces = (["url", "catalogId", "customerId", "siteId"] as const).filter((key) => olds[key] !== news[key]);
  const changes = replaces.length > 0 || (["masterImagePath", "reboot", "rebootWarningMinutes", "rebootDurationMinutes", "tokenRef"] as const).some((key) => olds[key] !== news[key]);
  return { changes, replaces: [...replaces], deleteBeforeReplace: false };
}

/** A new image on the same catalog: the image being replaced becomes the rollback target. */
export async function updateCatalogImage(_id: string, olds: Pick<CatalogImageOutputs, "masterImagePath" | "previousImagePath">, news: CatalogImageInputs, environment: CatalogImageEnvironment = {}): Promise<{ outs: CatalogImageOutputs }> {
  if (olds.masterImagePath !== news.masterImagePath) await pointAt(news, news.masterImagePath, environment);
  return { outs: { ...news, previousImagePath: olds.masterImagePath === news.masterImagePath ? olds.previousImagePath : olds.masterImagePath } };
}

/** Rolls the catalog back to the image it had before this resource changed it. */
export async function deleteCatalogImage(_id: string, olds: CatalogImageOutputs, environment: CatalogImageEnvironment = {}): Promise<void> {
  await pointAt(olds, olds.previousImagePath, environment);
}
