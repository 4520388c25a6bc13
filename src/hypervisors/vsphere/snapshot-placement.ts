/**
 * Where MCS finds a VM's current snapshot in vSphere: the snapshot chain from the root of the
 * VM's snapshot tree to the current snapshot (VirtualMachine.snapshot, a VirtualMachineSnapshotInfo
 * with currentSnapshot and rootSnapshotList of VirtualMachineSnapshotTree{name, snapshot,
 * childSnapshotList}; vmware/govmomi vim25/types), and the resource pools from the VM up to the
 * cluster's or host's root pool (ResourcePool.parent is another ResourcePool until the root,
 * whose parent is the ComputeResource). Read with `govc object.collect -json`, which prints Go
 * field names in older releases and camelCase in newer ones; both are read.
 */
import { VsphereError } from "./errors.ts";
import type { McsSnapshotPlacement } from "../mcs-snapshot-path.ts";
import type { Govc } from "./govc.ts";

/** A vSphere resource pool tree is never deeper than this; a longer walk is a cycle or a misread. */
const MAX_POOL_DEPTH = 64;

interface MoRef {
  readonly type: string;
  readonly value: string;
}


export async function readSnapshotPlacement(govc: Govc, vmPath: string): Promise<McsSnapshotPlacement> {
  const snapshot = (await collect(govc, vmPath, ["snapshot"])).get("snapshot") as Record<string, unknown> | undefined;
  const current = snapshot ? moRef(field(snapshot, "CurrentSnapshot")) : undefined;
  const roots = snapshot ? (field(snapshot, "RootSnapshotList") as unknown[] | null) : null;
  const snapshotChain = current ? chainTo(roots ?? [], current.value) : undefined;
  if (!snapshotChain) throw new VsphereError(`VM ${vmPath} has no current snapshot in its snapshot tree to give MCS`);
  const pool = moRef((await collect(govc, vmPath, ["resourcePool"])).get("resourcePool"));
  return { resourcePools: pool ? await poolsBelowRoot(govc, pool) : [], snapshotChain };
}

/** Names from a root snapshot down to the snapshot with this managed object id. */
function chainTo(trees: readonly unknown[], target: string): string[] | undefined {
  for (const tree of trees) {
    const node = tree as Record<string, unknown>;
    const name = String(field(node, "Name"));
    if (moRef(field(node, "Snapshot"))?.value === target) return [name];
    const below = chainTo((field(node, "ChildSnapshotList") as unknown[] | null) ?? [], target);
    if (below) return [name, ...below];
  }
  return undefined;
}

async function poolsBelowRoot(govc: Govc, start: MoRef): Promise<string[]> {
  const names: string[] = [];
  let pool: MoRef | undefined = start;
  for (let depth = 0; pool?.type === "ResourcePool"; depth++) {
    if (depth > MAX_POOL_DEPTH) throw new VsphereError(`the resource pools above ${start.value} are nested more than ${MAX_POOL_DEPTH} deep`);
    const properties = await collect(govc, `${pool.type}:${pool.value}`, ["name", "parent"]);
    const parent = moRef(properties.get("parent"));
    // The root pool ("Resources") belongs to the cluster or host the hosting unit points at.
    if (parent?.type !== "ResourcePool") break;
    names.unshift(String(properties.get("name")));
    pool = parent;
  }
  return names;
}

async function collect(govc: Govc, object: string, properties: readonly string[]): Promise<Map<string, unknown>> {
  const answer = (await govc.json<unknown[] | null>(["object.collect", object, ...properties])) ?? [];
  return new Map(
    answer.map((entry) => {
      const property = entry as Record<string, unknown>;
      return [String(field(property, "Name")), field(property, "Val")] as const;
    }) satisfies (readonly [string, unknown])[],
  );
}

function moRef(value: unknown): MoRef | undefined {
  if (!value || typeof value !== "object") return undefined;
  const record = value as Record<string, unknown>;
  const type = field(record, "Type");
  const id = field(record, "Value");
  return typeof type === "string" && typeof id === "string" ? { type, value: id } : undefined;
}

function field(object: Record<string, unknown>, goName: string): unknown {
  return object[goName] ?? object[goName.charAt(0).toLowerCase() + goName.slice(1)];
}

