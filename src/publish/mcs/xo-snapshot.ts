/**
 * A snapshot of the golden VM through Xen Orchestra's REST API (the XO Pulumi provider has no
 * snapshot resource): POST /rest/v0/vms/<uuid>/actions/snapshot?sync=true, deleted with
 * DELETE /rest/v0/vm-snapshots/<id>. The token is a secret reference resolved where this runs.
 */
import { environmentSecretSources, resolveSecret } from "../../recipe/secrets.ts";
import { requestJson, type Fetch } from "./http.ts";

export interface XoSnapshotInputs {
  readonly url: string;
  readonly tokenRef: string;
  readonly vmUuid: string;
  readonly snapshotName: string;
}

export interface XoSnapshotOutputs extends XoSnapshotInputs {
  readonly snapshotId: string;
}

export interface HttpEnvironment {
  readonly fetch?: Fetch;
  readonly env?: NodeJS.ProcessEnv;
}

function auth(inputs: { tokenRef: string }, environment: HttpEnvironment): Record<string, string> {
  return { cookie: `authenticationToken=${resolveSecret(inputs.tokenRef, environmentSecretSources(environment.env ?? process.env))}` };
}

export async function createXoSnapshot(inputs: XoSnapshotInputs, environment: HttpEnvironment = {}): Promise<{ id: string; outs: XoSnapshotOutputs }> {
  const base = inputs.url.replace(/\/+$/, "");
  const answer = await requestJson(environment.fetch ?? fetch, "POST", `${base}/rest/v0/vms/${encodeURIComponent(inputs.vmUuid)}/actions/snapshot?sync=true`, auth(inputs, environment), { name_label: inputs.snapshotName });
  // With ?sync, packages/xo-server/src/xo-mixins/rest-api.mjs answers the action's result, the
  // snapshot's UUID as a JSON string; @xen-orchestra/rest-api vms/vm.controller.mts answers 201 {"id"}.
  const id = typeof answer === "string" ? answer : (answer as { id?: unknown } | undefined)?.id;
  if (typeof id !== "string" || !id) throw new Error(`XO at ${base} did not return a snapshot id for VM ${inputs.vmUuid} (answer: ${JSON.stringify(answer)})`);
  return { id, outs: { ...inputs, snapshotId: id } };
}

export function diffXoSnapshot(olds: XoSnapshotOutputs, news: XoSnapshotInputs) {
  const replaces = (["url", "vmUuid", "snapshotName"] as const).filter((key) => olds[key] !== news[key]);
  return { changes: replaces.length > 0 || olds.tokenRef !== news.tokenRef, replaces: [...replaces], deleteBeforeReplace: false };
}

export async function deleteXoSnapshot(id: string, olds: XoSnapshotOutputs, environment: HttpEnvironment = {}): Promise<void> {
  await requestJson(environment.fetch ?? fetch, "DELETE", `${olds.url.replace(/\/+$/, "")}/rest/v0/vm-snapshots/${encodeURIComponent(id)}`, auth(olds, environment));
}
