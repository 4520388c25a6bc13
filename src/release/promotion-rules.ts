/**
 * The rules a pin change follows, as one pure function: the stacks are in the declared order and
 * the move is to the next stage, the version goes forward, and it is not revoked. Breaking the
 * order or going back needs an override with a reason; a revoked version needs an un-revoke.
 */
import { compareVersions } from "../distribute/site-versions.ts";
import type { RuleOverride } from "./audit-log.ts";

export interface PinRequest {
  readonly stackOrder: readonly string[];
  /** The stack the version comes from; absent for a rollback (the stack's own history). */
  readonly from?: string;
  readonly to: string;
  /** What `to` pins now. */
  readonly current: string;
  readonly next: string;
  /** Why `next` is revoked, when it is. */
  readonly revoked?: string;
  /** The overrides given, with the reason. */
  readonly overrides: ReadonlySet<RuleOverride>;
}

export interface RuleBreach {
  readonly rule: string;
  readonly message: string;
  /** The override that allows it; none for what cannot be overridden here. */
  readonly override?: RuleOverride;
}

export interface PinVerdict {
  /** Breaches no override allows, or whose override was not given. */
  readonly refused: readonly RuleBreach[];
  /** Overrides that were needed and given: the record names them. */
  readonly overridden: readonly RuleOverride[];
  readonly downgrade: boolean;
}

export function judgePin(request: PinRequest): PinVerdict {
  const breaches: RuleBreach[] = [];
  const { stackOrder, from, to, current, next } = request;
  const order = stackOrder.join(" -> ");
  for (const stack of from === undefined ? [to] : [from, to]) {
    if (!stackOrder.includes(stack)) breaches.push({ rule: "promote-unknown-stage", message: `stack ${stack} is not in the promotion order (${order}); add it to stackOrder in Pulumi.yaml` });
  }
  if (from !== undefined && stackOrder.includes(from) && stackOrder.includes(to)) {
    const step = stackOrder.indexOf(to) - stackOrder.indexOf(from);
    if (step === 0) breaches.push({ rule: "promote-same-stage", message: `--from and --to are both ${to}` });
    else if (step > 1) breaches.push({ rule: "promote-skips-stage", message: `${from} -> ${to} skips ${stackOrder.slice(stackOrder.indexOf(from) + 1, stackOrder.indexOf(to)).join(", ")} (order: ${order})`, override: "out-of-order" });
    else if (step < 0) breaches.push({ rule: "promote-against-order", message: `${from} -> ${to} goes against the promotion order (${order})`, override: "out-of-order" });
  }
  const downgrade = compareVersions(next, current) < 0;
  if (downgrade && from !== undefined) breaches.push({ rule: "promote-downgrade", message: `${to} would go from ${current} back to the older ${next}`, override: "downgrade" });
  if (request.revoked !== undefined) breaches.push({ rule: "pin-revoked", message: `${next} is revoked (${request.revoked}); un-revoke it first with rebake revoke <image> ${next} --undo --reason "<why>"` });
  const refused = breaches.filter((b) => !b.override || !request.overrides.has(b.override));
  const overridden = [...new Set(breaches.flatMap((b) => (b.override && request.overrides.has(b.override) ? [b.override] : [])))];
  return { refused, overridden, downgrade };
}
