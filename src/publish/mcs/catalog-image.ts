/**
 * Points an MCS machine catalog at a new master image through the CVAD REST API
 * (POST /cvad/manage/MachineCatalogs/{id}/$UpdateProvisioningScheme with MasterImagePath and the
 * reboot options). The previous image path is kept in state, so delete (a rollback, or removing
 * the resource) puts the catalog back on the image it had.
 */
import { environmentSecretSources, resolveSecret } from "../../recipe/secrets.ts";
import type { RebootStrategy } from "../../stacks/model.ts";
import { requestJson, type Fetch } from "./http.ts";
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
}

export interface CatalogImageOutputs extends CatalogImageInputs {
  /** The image the catalog used before: where delete returns it. */
  readonly previousImagePath: string;
}

function headers(inputs: CatalogImageInputs, environment: HttpEnvironment): Record<string, string> {
  return {
    authorization: `CWSAuth Bearer=${resolveSecret(inputs.tokenRef, environmentSecretSources(environment.env ?? process.env))}`,
    "Citrix-CustomerId": inputs.customerId,
    "Citrix-InstanceId": inputs.siteId,
  };
}

function catalogUrl(inputs: CatalogImageInputs): string {
  return `${inputs.url.replace(/\/+$/, "")}/cvad/manage/MachineCatalogs/${encodeURIComponent(inputs.catalogId)}`;
}

/** The request body of $UpdateProvisioningScheme. */
export function updateBody(inputs: CatalogImageInputs, imagePath: string) {
  const rebooting = inputs.reboot !== "none";
  return {
    MasterImagePath: imagePath,
    StoreOldImage: true,
    ...(rebooting
      ? { RebootOptions: { RebootDuration: inputs.reboot === "immediate" ? 0 : -1, WarningDuration: inputs.rebootWarningMinutes, WarningMessage: "This machine restarts to pick up a new image." } }
      : {}),
  };
}

async function pointAt(inputs: CatalogImageInputs, imagePath: string, environment: HttpEnvironment): Promise<void> {
  await requestJson(environment.fetch ?? fetch, "POST", `${catalogUrl(inputs)}/$UpdateProvisioningScheme?async=false`, headers(inputs, environment), updateBody(inputs, imagePath));
}

async function currentImage(inputs: CatalogImageInputs, fetchImpl: Fetch, environment: HttpEnvironment): Promise<string> {
  const catalog = (await requestJson(fetchImpl, "GET", catalogUrl(inputs), headers(inputs, environment))) as { ProvisioningScheme?: { MasterImagePath?: string } };
  const path = catalog.ProvisioningScheme?.MasterImagePath;
  if (!path) throw new Error(`catalog ${inputs.catalogId} has no MCS provisioning scheme with a MasterImagePath; is it an MCS catalog?`);
  return path;
}

export async function createCatalogImage(inputs: CatalogImageInputs, environment: HttpEnvironment = {}): Promise<{ id: string; outs: CatalogImageOutputs }> {
  const previousImagePath = await currentImage(inputs, environment.fetch ?? fetch, environment);
  await pointAt(inputs, inputs.masterImagePath, environment);
  return { id: inputs.catalogId, outs: { ...inputs, previousImagePath } };
}

export function diffCatalogImage(olds: CatalogImageOutputs, news: CatalogImageInputs) {
  const replaces = (["url", "catalogId", "customerId", "siteId"] as const).filter((key) => olds[key] !== news[key]);
  const changes = replaces.length > 0 || (["masterImagePath", "reboot", "rebootWarningMinutes", "tokenRef"] as const).some((key) => olds[key] !== news[key]);
  return { changes, replaces: [...replaces], deleteBeforeReplace: false };
}

/** A new image on the same catalog: the image being replaced becomes the rollback target. */
export async function updateCatalogImage(_id: string, olds: CatalogImageOutputs, news: CatalogImageInputs, environment: HttpEnvironment = {}): Promise<{ outs: CatalogImageOutputs }> {
  if (olds.masterImagePath !== news.masterImagePath) await pointAt(news, news.masterImagePath, environment);
  return { outs: { ...news, previousImagePath: olds.masterImagePath === news.masterImagePath ? olds.previousImagePath : olds.masterImagePath } };
}

/** Rolls the catalog back to the image it had before this resource changed it. */
export async function deleteCatalogImage(_id: string, olds: CatalogImageOutputs, environment: HttpEnvironment = {}): Promise<void> {
  await pointAt(olds, olds.previousImagePath, environment);
}
