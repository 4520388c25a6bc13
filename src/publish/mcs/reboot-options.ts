/**
 * The RebootOptions of $UpdateProvisioningScheme for a stack's reboot strategy, with Citrix's
 * meaning of RebootDuration (citrix/terraform-provider-citrix
 * internal/daas/machine_catalog/machine_config.go ImageUpdateRebootOptionsModel): -1 skips the
 * reboot (machines take the image at their next shutdown), 0 reboots every machine now, N runs a
 * reboot cycle over about N minutes. Field names from citrix/citrix-daas-rest-go
 * citrixorchestration/model_reboot_machines_request_model.go.
 */
import type { RebootStrategy } from "../../stacks/model.ts";

export const NO_REBOOT = -1;
export const REBOOT_NOW = 0;
/** Shown in user sessions; '%m%' is replaced by the minutes left (model_reboot_machines_request_model.go). */
export const REBOOT_WARNING_MESSAGE = "This machine restarts in %m% minutes to pick up a new image. Save your work.";

export interface RebootOptions {
  readonly RebootDuration: number;
  readonly WarningDuration: number;
  readonly WarningMessage?: string;
}

export interface RebootSettings {
  readonly reboot: RebootStrategy;
  readonly rebootWarningMinutes: number;
  readonly rebootDurationMinutes: number;
}

export function rebootOptions({ reboot, rebootWarningMinutes, rebootDurationMinutes }: RebootSettings): RebootOptions {
  // Terraform sends WarningDuration 0 (no warning) with a skipped reboot and a message only with a warning.
  if (reboot === "none") return { RebootDuration: NO_REBOOT, WarningDuration: 0 };
  const duration = reboot === "immediate" ? REBOOT_NOW : rebootDurationMinutes;
  return rebootWarningMinutes > 0
    ? { RebootDuration: duration, WarningDuration: rebootWarningMinutes, WarningMessage: REBOOT_WARNING_MESSAGE }
    : { RebootDuration: duration, WarningDuration: 0 };
}
