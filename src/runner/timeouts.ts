/** How long the unattended OS install may take before the VM powers off. */
export const DEFAULT_INSTALL_TIMEOUT_MS = 30 * 60_000;
/** How long a boot may take until the guest agent answers, and a clean shutdown until power off. */
export const DEFAULT_BOOT_TIMEOUT_MS = 10 * 60_000;
