/**
 * `status`: what each stack pins against what is actually served: the versions in each PVS
 * site's store, what PVS itself has registered (disk locators and their versions' access, read
 * through the stack's PVS executor) and the master image each MCS catalog uses (read from CVAD),
 * with the drift
 * between them, the retention rule's kept versions and the release state from the audit log.
 */
import { basename } from "node:path";
import type { BuildManifest } from "../manifest/model.ts";
import { readManifest } from "../manifest/write-manifest.ts";
import { mcsSnapshotPath } from "../hypervisors/mcs-snapshot-path.ts";
import { sitesOf } from "../distribute/source.ts";
import { listStacks } from "../stacks/list-stacks.ts";
import { loadStack } from "../stacks/load-stack.ts";
import type { McsCatalog, StackConfig } from "../stacks/model.ts";
import { openStore } from "../stores/open-store.ts";
import { readAuditLog } from "../release/audit-log.ts";
import { loadReleasePolicy } from "../release/release-policy.ts";
import { releaseState } from "../release/release-state.ts";
import type { KeptVersion } from "../release/retention.ts";
import { stackRetention } from "../release/stack-retention.ts";
import { readCatalogImage } from "./mcs/catalog-image.ts";
import { MCS_ROLE, readPowerShellCatalogImage } from "./mcs/catalog-image-powershell.ts";
import { mcsImageOf } from "./golden-image-args.ts";
import { vhdxOf } from "../stores/published-vdisk.ts";
import { manifestPathOf } from "./release.ts";
import { readVersionRecord } from "../distribute/version-record.ts";
import { createExec, type Exec } from "../util/exec.ts";
import { executorFor } from "../pvs/executor.ts";
import { parseRegisteredVdisks, registeredVdisksScript, type RegisteredInSite } from "../pvs/served-script.ts";
import { pvsDriftOf, pvsPinOf, type PvsPin } from "./pvs-drift.ts";

/** A status read waits this long for PVS; a PVS server that does not answer is reported as not read. */
export const PVS_STATUS_TIMEOUT_MS = 2 * 60 * 1000;

/** What the systems serve, read through one interface so status runs against fakes in tests. */
export interface ServedReader {
  /** File names in a site's store. */
  storeFiles(stack: StackConfig, site: string): Promise<string[]>;
  /** The master image path a catalog uses now. */
  catalogImage(stack: StackConfig, catalog: McsCatalog): Promise<string>;
  /** What PVS has registered in each of a PVS stack's sites, through its executor. */
  pvsRegistered(stack: StackConfig): Promise<RegisteredInSite[]>;
}

export function liveReader(env: NodeJS.ProcessEnv, exec: Exec = createExec()): ServedReader {
  return {
    async storeFiles(stack, siteName) {
      const site = sitesOf(stack, env).find((s) => s.name === siteName)!;
      return openStore(site.location, site.credentials ? { credentials: site.credentials } : {}).list();
    },
    catalogImage(stack, catalog) {
      const { via, cvad, powershell } = stack.mcs!;
      if (via === "powershell") return readPowerShellCatalogImage({ ...powershell!, catalogName: catalog.name }, { executorOf: (config) => executorFor(config, exec, process.platform, env, MCS_ROLE) });
      return readCatalogImage(
        { url: cvad!.url, customerId: cvad!.customerId, siteId: cvad!.siteId, tokenRef: cvad!.token, catalogId: catalog.id, masterImagePath: "", reboot: catalog.reboot, rebootWarningMinutes: catalog.rebootWarningMinutes, rebootDurationMinutes: catalog.rebootDurationMinutes },
        { env },
      );
    },
    async pvsRegistered(stack) {
      const pvs = stack.pvs!;
      const executor = executorFor(pvs.executor, exec, process.platform, env);
      const script = registeredVdisksScript({ server: pvs.server, port: pvs.port }, pvs.sites.map((site) => ({ siteName: site.name, storeName: site.store.name })));
      const { stdout } = await executor.run(script, { signal: AbortSignal.timeout(PVS_STATUS_TIMEOUT_MS) });
      return parseRegisteredVdisks(stdout, executor.where);
    },
  };
}

export interface SiteServes {
  readonly site: string;
  readonly store: string;
  /** Versions of the image in the store; absent when unreachable. */
  readonly versions?: readonly string[];
  readonly unreachable?: string;
}

export interface CatalogServes {
  readonly catalog: string;
  readonly expected?: string;
  readonly serves?: string;
  readonly unreachable?: string;
}

/** What PVS has registered against the pin; `unreachable` when PVS could not be read at all. */
export interface PvsServes {
  readonly expected?: PvsPin;
  readonly sites?: readonly RegisteredInSite[];
  readonly unreachable?: string;
}

export interface StackStatus {
  readonly stack: string;
  readonly image: string;
  readonly version: string;
  readonly built?: string;
  readonly verified: "passed" | "failed" | "never" | "no manifest";
  readonly published?: string;
  readonly revoked?: string;
  /** PVS: the versions the retention rule keeps in this stack's stores. */
  readonly keep: readonly KeptVersion[];
  readonly sites: readonly SiteServes[];
  readonly catalogs: readonly CatalogServes[];
  /** PVS stacks: what PVS itself has registered. */
  readonly pvs?: PvsServes;
  readonly drift: readonly string[];
}

async function manifestOrUndefined(path: string): Promise<BuildManifest | undefined> {
  try {
    return await readManifest(path);
  } catch {
    return undefined;
  }
}

const message = (error: unknown) => (error as Error).message.split("\n")[0]!;
/** A PVS script's failure says why on the lines after the first (PowerShell's stderr). */
const wholeMessage = (error: unknown) => (error as Error).message.split(/\r?\n/).map((line) => line.trim()).filter(Boolean).join(" ");

/** The versions of `family` among store file names (`<family>-<version>.vhdx`). */
export function versionsInStore(files: readonly string[], family: string): string[] {
  const prefix = `${family}-`;
  return files.filter((f) => f.startsWith(prefix) && f.toLowerCase().endsWith(".vhdx")).map((f) => f.slice(prefix.length, -".vhdx".length));
}

/** The drift between a stack's pin and what its sites and catalogs serve. */
export function driftOf(row: Omit<StackStatus, "drift">, keptInStore: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const drift: string[] = [];
  if (row.revoked) drift.push(`pins ${row.version}, which is revoked (${row.revoked})`);
  if (!row.published) drift.push(`pins ${row.version}, which was never published to ${row.stack} (rebake publish --stack ${row.stack})`);
  for (const site of row.sites) {
    if (!site.versions) continue;
    if (!site.versions.includes(row.version)) drift.push(`site ${site.site}: store ${site.store} does not hold the pinned ${row.version}`);
    const kept = keptInStore.get(site.store) ?? new Set();
    for (const version of site.versions) if (!kept.has(version)) drift.push(`site ${site.site}: store holds ${version}, which no stack keeps (its next publish removes it, or remove it by hand)`);
  }
  if (row.pvs?.expected && row.pvs.sites) drift.push(...pvsDriftOf(row.pvs.expected, row.pvs.sites));
  for (const catalog of row.catalogs) {
    if (catalog.serves !== undefined && catalog.expected !== undefined && catalog.serves !== catalog.expected) drift.push(`catalog ${catalog.catalog} uses ${catalog.serves}, not the pinned ${catalog.expected}`);
  }
  return drift;
}

/** The pin in PVS's terms and what PVS has registered; PVS not answering is a note, not a failure of status. */
async function pvsServes(reader: ServedReader, stack: StackConfig, manifest: BuildManifest | undefined, manifestPath: string): Promise<PvsServes> {
  let expected: PvsPin | undefined;
  try {
    expected = manifest ? pvsPinOf(manifest, await readVersionRecord(manifestPath), stack.pvs!.accessMode) : undefined;
  } catch (error) {
    return { unreachable: message(error) };
  }
  try {
    return { ...(expected ? { expected } : {}), sites: await reader.pvsRegistered(stack) };
  } catch (error) {
    return { ...(expected ? { expected } : {}), unreachable: wholeMessage(error) };
  }
}

export async function status(root: string, reader: ServedReader): Promise<StackStatus[]> {
  const [policy, entries, names] = await Promise.all([loadReleasePolicy(root), readAuditLog(root), listStacks(root)]);
  const stacks = await Promise.all(names.map((name) => loadStack(root, name)));
  const rows: Omit<StackStatus, "drift">[] = [];
  const keptInStore = new Map<string, Set<string>>();
  for (const stack of stacks) {
    const state = releaseState(entries, stack.image.recipe);
    const manifest = await manifestOrUndefined(manifestPathOf(root, stack));
    const keep = stack.target === "pvs" ? stackRetention(stack, stacks, policy, state) : [];
    const revocation = state.revocation(stack.image.version);
    const publish = state.lastPublish(stack.stack, stack.image.version);
    const vhdx = manifest ? vhdxOf(manifest) : undefined;
    const family = vhdx ? basename(vhdx.path, ".vhdx") : undefined;
    const sites = await Promise.all((stack.pvs?.sites ?? []).map(async (site): Promise<SiteServes> => {
      const base = { site: site.name, store: site.store.location };
      for (const { version } of keep) keptInStore.set(site.store.location, (keptInStore.get(site.store.location) ?? new Set()).add(version));
      if (!family) return { ...base, unreachable: "no manifest of the pinned version: the vDisk name is unknown" };
      try {
        return { ...base, versions: versionsInStore(await reader.storeFiles(stack, site.name), family) };
      } catch (error) {
        return { ...base, unreachable: message(error) };
      }
    }));
    const image = manifest ? mcsImageOf(stack, manifest) : undefined;
    const catalogs = await Promise.all((stack.mcs?.catalogs ?? []).map(async (catalog): Promise<CatalogServes> => {
      const expected = image?.placement ? mcsSnapshotPath(catalog.hostingUnit, image.vmName, image.placement) : undefined;
      const base = { catalog: catalog.name, ...(expected ? { expected } : {}) };
      try {
        return { ...base, serves: await reader.catalogImage(stack, catalog) };
      } catch (error) {
        return { ...base, unreachable: message(error) };
      }
    }));
    const pvs = stack.pvs ? await pvsServes(reader, stack, manifest, manifestPathOf(root, stack)) : undefined;
    rows.push({
      stack: stack.stack,
      image: stack.image.recipe,
      version: stack.image.version,
      ...(manifest ? { built: manifest.finished } : {}),
      verified: !manifest ? "no manifest" : !manifest.verification ? "never" : manifest.verification.passed ? "passed" : "failed",
      ...(publish ? { published: publish.at } : {}),
      ...(revocation ? { revoked: `by ${revocation.who} at ${revocation.at}${revocation.reason ? `: ${revocation.reason}` : ""}` } : {}),
      keep, sites, catalogs,
      ...(pvs ? { pvs } : {}),
    });
  }
  return rows.map((row) => ({ ...row, drift: driftOf(row, keptInStore) }));
}
