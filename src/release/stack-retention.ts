/** The retention rule applied to a stack of the project: its versions, and those of stacks sharing its stores. */
import type { StackConfig } from "../stacks/model.ts";
import type { ReleasePolicy } from "./release-policy.ts";
import type { ReleaseState } from "./release-state.ts";
import { ownRetention, withSharedRetention, type KeptVersion } from "./retention.ts";

const storesOf = (stack: StackConfig) => new Set(stack.pvs?.sites.map((s) => s.store.location) ?? []);

/** The stacks (other than `stack`) publishing the same image into one of its stores. */
export function sharingStacks(stack: StackConfig, all: readonly StackConfig[]): StackConfig[] {
  const mine = storesOf(stack);
  return all.filter((other) => other.stack !== stack.stack && other.image.recipe === stack.image.recipe && [...storesOf(other)].some((s) => mine.has(s)));
}

export function stackRetention(stack: StackConfig, all: readonly StackConfig[], policy: ReleasePolicy, state: ReleaseState): KeptVersion[] {
  const own = (s: StackConfig) =>
    ownRetention({ pinned: s.image.version, published: state.publishedTo(s.stack), keepVersions: policy.keepVersions, isRevoked: (version) => state.revocation(version) !== undefined });
  return withSharedRetention(own(stack), sharingStacks(stack, all).map((other) => ({ stack: other.stack, kept: own(other) })));
}
