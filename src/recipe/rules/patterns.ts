/**
 * Recognises what a command line really does, so rules can tell when a custom step or an app
 * definition installs software that has its own place in the layer order (seed 000), joins a
 * domain or powers the machine off.
 */

export interface Signature {
  /** What the match means, for messages: "the Citrix VDA". */
  readonly what: string;
  readonly pattern: RegExp;
}

/** VDA installers: Windows server/desktop setups, the legacy name, the Linux VDA setup script. */
export const VDA_INSTALL: Signature = {
  what: "the Citrix VDA",
  pattern: /VDAServerSetup|VDAWorkstationSetup|XenDesktopVdaSetup|ctxinstall/i,
};

/** The Citrix Provisioning target-device software (Windows installer, MSI title, Linux package). */
export const TARGET_DEVICE_INSTALL: Signature = {
  what: "the PVS target-device software",
  pattern: /PVS_Device|Provisioning Services Target Device|Citrix Provisioning Target Device|citrix-provisioning/i,
};

/** Hypervisor integration tools: VMware Tools, XenServer / Citrix VM Tools. */
export const HYPERVISOR_TOOLS_INSTALL: Signature = {
  what: "hypervisor tools",
  pattern: /VMware[- ]?Tools|setup64\.exe|open-vm-tools|xe-guest-utilities|Citrix VM Tools|XenServer VM Tools|managementagent/i,
};

/** Joining a domain: PowerShell, netdom, offline domain join, realmd and adcli. */
export const DOMAIN_JOIN: Signature = {
  what: "a domain join",
  pattern: /\bAdd-Computer\b|\bnetdom(?:\.exe)?\s+join\b|\bdjoin(?:\.exe)?\s|\brealm\s+join\b|\badcli\s+join\b/i,
};

/**
 * Powering the machine off (a reboot is fine): Stop-Computer, `shutdown /s`, `shutdown -h`,
 * `shutdown now`, poweroff, halt, `init 0`, and sysprep told to shut down.
 */
export const SHUTDOWN: Signature = {
  what: "a shutdown",
  pattern:
    /\bStop-Computer\b|\bshutdown(?:\.exe)?\b[^\n;&|]*?\s(?:[/-]s|-h|-P|--poweroff|--halt)\b|\bshutdown\s+now\b|(?:^|[;&|]|\bsudo|\bsystemctl)\s*(?:poweroff|halt)\b|\binit\s+0\b|\bsysprep(?:\.exe)?\b[^\n]*\/shutdown\b/im,
};

/** The trimmed line of `text` that matches, or undefined. */
export function matchingLine(text: string, signature: Signature): string | undefined {
  const match = signature.pattern.exec(text);
  if (!match) return undefined;
  const start = text.lastIndexOf("\n", match.index) + 1;
  const end = text.indexOf("\n", match.index);
  return text.slice(start, end === -1 ? undefined : end).trim();
}
