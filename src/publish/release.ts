/**
 * Promote, roll back, revoke and report versions across stacks. A pin change is an edit of the
 * pinned version in a stack file (a reviewable diff) plus a line in the audit log; the publish
 * itself runs afterwards. The rules (order, direction, revocation) are in release/promotion-rules.ts,
 * the policy in Pulumi.yaml, the history in the audit log.
 */
import { isAbsolute, join } from "node:path";
import type { BuildManifest } from "../manifest/model.ts";
import { readManifest } from "../manifest/write-manifest.ts";
import { defaultManifestPath, type StackConfig } from "../stacks/model.ts";
import { loadStack, stackFile } from "../stacks/load-stack.ts";
import { listStacks } from "../stacks/list-stacks.ts";
import { pinVersion, type PinChange } from "../stacks/pin-version.ts";
import { appendAuditEntry, readAuditLog, type AuditEntry, type RuleOverride } from "../release/audit-log.ts";
import { judgePin, type RuleBreach } from "../release/promotion-rules.ts";
import type { ReleaseActor } from "../release/release-actor.ts";
import { loadReleasePolicy } from "../release/release-policy.ts";
import { releaseState, type ReleaseState } from "../release/release-state.ts";

export class ReleaseError extends Error {
  constructor(readonly breaches: readonly RuleBreach[]) {
    const lines = breaches.map((b) => `${b.rule}  ${b.message}${b.override ? ` (allowed with --${b.override} --reason "<why>")` : ""}`);
    super(lines.length === 1 ? lines[0]! : `refused by ${lines.length} rules:\n${lines.map((line) => `  ${line}`).join("\n")}`);
    this.name = new.target.name;
  }
}

const refuse = (rule: string, message: string) => new ReleaseError([{ rule, message }]);

export function manifestPathOf(root: string, stack: StackConfig, version = stack.image.version): string {
  // Another version than the pinned one lives at the default place for that version.
  const relative = version === stack.image.version ? stack.image.manifest : defaultManifestPath(stack.image.recipe, version);
  return isAbsolute(relative) ? relative : join(root, relative);
}

async function manifestOrUndefined(path: string): Promise<BuildManifest | undefined> {
  try {
    return await readManifest(path);
  } catch {
    return undefined;
  }
}

export interface ReleaseContext {
  readonly root: string;
  /** Who and which commit; asked once the request is valid, before anything is written. */
  readonly actor: () => Promise<ReleaseActor>;
}

export interface PinResult {
  readonly change: PinChange;
  readonly older?: BuildManifest;
  readonly newer: BuildManifest;
  readonly downgrade: boolean;
  /** The audit entry appended; absent when nothing changed. */
  readonly entry?: AuditEntry;
}

export interface PromoteRequest {
  readonly image: string;
  readonly from: string;
  readonly to: string;
  readonly overrides: ReadonlySet<RuleOverride>;
  readonly reason?: string;
}

async function audited(context: ReleaseContext, entry: Omit<AuditEntry, "at" | "who" | "commit">): Promise<AuditEntry> {
  const actor = await context.actor();
  return appendAuditEntry(context.root, { ...entry, at: actor.now().toISOString(), who: actor.who, commit: actor.commit });
}

async function stateOf(root: string, image: string): Promise<ReleaseState> {
  return releaseState(await readAuditLog(root), image);
}

const revokedReason = (state: ReleaseState, version: string) => {
  const entry = state.revocation(version);
  return entry ? `by ${entry.who} at ${entry.at}${entry.reason ? `: ${entry.reason}` : ""}` : undefined;
};

/** Pins in `to` the version `from` runs, if it was verified and published there and the rules allow it. */
export async function promote(context: ReleaseContext, request: PromoteRequest): Promise<PinResult> {
  const { root } = context;
  const { image, from, to } = request;
  const [lower, upper, policy, state] = await Promise.all([loadStack(root, from), loadStack(root, to), loadReleasePolicy(root), stateOf(root, image)]);
  const breaches: RuleBreach[] = [];
  for (const stack of [lower, upper]) {
    if (stack.image.recipe !== image) breaches.push({ rule: "promote-image", message: `${stack.file} pins the image ${stack.image.recipe}, not ${image}; name the image the stacks publish` });
  }
  const version = lower.image.version;
  const manifestPath = manifestPathOf(root, lower);
  const newer = await manifestOrUndefined(manifestPath);
  if (!newer) {
    breaches.push({ rule: "promote-built", message: `no build manifest for ${image} ${version} at ${manifestPath}; build it (rebake build) and publish it to ${from} first` });
  } else if (!newer.verification?.passed) {
    breaches.push({ rule: "promote-verified", message: `${image} ${version} is not verified (${newer.verification ? "its verification failed" : "never verified"}); run rebake verify ${manifestPath} and publish it to ${from} before promoting` });
  } else {
    const publish = state.lastPublish(from, version);
    if (!publish || publish.recipeHash !== newer.recipe.hash) {
      breaches.push({ rule: "promote-published", message: `${image} ${version} was not published to ${from} (no publish of this build in the audit log); run rebake publish --stack ${from} first` });
    }
  }
  const revoked = revokedReason(state, version);
  const verdict = judgePin({ stackOrder: policy.stackOrder, from, to, current: upper.image.version, next: version, overrides: request.overrides, ...(revoked ? { revoked } : {}) });
  breaches.push(...verdict.refused);
  if (breaches.length || !newer) throw new ReleaseError(breaches);
  await context.actor();
  const older = await manifestOrUndefined(manifestPathOf(root, upper));
  const change = await pinVersion(stackFile(root, to), upper.file, to, version);
  const result = { change, ...(older ? { older } : {}), newer, downgrade: verdict.downgrade };
  if (change.from === change.to) return result;
  const entry = await audited(context, {
    action: "promote", image, version, previous: change.from, stacks: [to],
    ...(request.reason !== undefined ? { reason: request.reason } : {}), overrides: verdict.overridden,
  });
  return { ...result, entry };
}

/**
 * Pins in `stack` the newest version published there before the current one that is not revoked
 * (or `to`), and revokes the abandoned version with the reason.
 */
export async function rollback(context: ReleaseContext, stackName: string, reason: string, to?: string): Promise<PinResult> {
  const { root } = context;
  const stack = await loadStack(root, stackName);
  const image = stack.image.recipe;
  const state = await stateOf(root, image);
  const current = stack.image.version;
  const candidates = state.publishedTo(stackName).filter((v) => v !== current);
  const target = to ?? candidates.find((v) => !state.revocation(v));
  if (target === undefined) throw refuse("rollback-target", `${stack.file}: no earlier version of ${image} was published to ${stackName} that is not revoked; nothing to roll back to`);
  if (target === current) throw refuse("rollback-target", `${stackName} already pins ${image} ${target}`);
  if (!candidates.includes(target)) throw refuse("rollback-target", `${image} ${target} was never published to ${stackName} (published: ${candidates.join(", ") || "none"}); roll back to a version the stack ran`);
  const revoked = revokedReason(state, target);
  if (revoked) throw refuse("pin-revoked", `${target} is revoked (${revoked}); un-revoke it first with rebake revoke ${image} ${target} --undo --reason "<why>"`);
  const newer = await manifestOrUndefined(manifestPathOf(root, stack, target));
  if (!newer) throw refuse("rollback-manifest", `the manifest of ${image} ${target} is gone from ${manifestPathOf(root, stack, target)}; restore it before rolling back`);
  await context.actor();
  const older = await manifestOrUndefined(manifestPathOf(root, stack));
  const change = await pinVersion(stackFile(root, stackName), stack.file, stackName, target);
  const entry = await audited(context, { action: "rollback", image, version: target, previous: current, stacks: [stackName], reason });
  return { change, ...(older ? { older } : {}), newer, downgrade: true, entry };
}

export interface RevokeResult {
  readonly entry: AuditEntry;
  /** Stacks that still pin the version (revoke does not change pins: roll them back). */
  readonly pinnedBy: readonly string[];
}

/** Marks a version revoked (or, with `undo`, pinnable again). */
export async function revoke(context: ReleaseContext, image: string, version: string, reason: string, undo = false): Promise<RevokeResult> {
  const { root } = context;
  const state = await stateOf(root, image);
  const revoked = state.revocation(version) !== undefined;
  if (undo && !revoked) throw refuse("revoke-state", `${image} ${version} is not revoked; nothing to un-revoke`);
  if (!undo && revoked) throw refuse("revoke-state", `${image} ${version} is already revoked (${revokedReason(state, version)})`);
  const pinnedBy: string[] = [];
  for (const name of await listStacks(root)) {
    const stack = await loadStack(root, name);
    if (stack.image.recipe === image && stack.image.version === version) pinnedBy.push(name);
  }
  const entry = await audited(context, { action: undo ? "unrevoke" : "revoke", image, version, stacks: pinnedBy, reason });
  return { entry, pinnedBy };
}

/** Records a successful publish in the audit log. */
export async function recordPublish(context: ReleaseContext, stack: StackConfig, manifest: BuildManifest, published: Readonly<Record<string, string>>, reason?: string): Promise<AuditEntry> {
  return audited(context, {
    action: "publish", image: manifest.recipe.name, version: manifest.recipe.version, stacks: [stack.stack],
    ...(reason !== undefined ? { reason } : {}), recipeHash: manifest.recipe.hash, published,
  });
}

/** Refuses to publish a revoked version: a rollback or revoke took it out of service. */
export async function checkPublishable(root: string, stack: StackConfig): Promise<string | undefined> {
  const reason = revokedReason(await stateOf(root, stack.image.recipe), stack.image.version);
  return reason ? `${stack.image.recipe} ${stack.image.version} is revoked (${reason}); pin another version or un-revoke it with rebake revoke ${stack.image.recipe} ${stack.image.version} --undo --reason "<why>"` : undefined;
}
