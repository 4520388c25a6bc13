/**
 * Where the Xen Orchestra driver builds: the XO server, the pool, template and SRs by UUID, and
 * the environment variable holding the API token (never the token itself: stacks are committed).
 */

export interface XoSettings {
  /** The XO server, e.g. https://xo.corp.example (the REST API is under /rest/v0). */
  readonly url: string;
  /** Environment variable holding an XO authentication token (xo-cli create-token). */
  readonly tokenEnv: string;
  /** Pool UUID the VM is created in. */
  readonly pool: string;
  /** Template UUID the VM is cloned from: it decides vCPUs, the disk layout and the NIC. */
  readonly template: string;
  /** ISO SR UUID the install and answer ISOs are uploaded to. */
  readonly isoSr: string;
  /** The Citrix hosting unit pointing at this pool; names the MCS snapshot path. */
  readonly hostingUnit?: string;
}

export class XoSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export function xoToken(settings: XoSettings, env: NodeJS.ProcessEnv): string {
  const problems: string[] = [];
  for (const [field, value] of [["url", settings.url], ["pool", settings.pool], ["template", settings.template], ["isoSr", settings.isoSr]] as const) {
    if (!value?.trim()) problems.push(`${field} must not be empty`);
  }
  const token = env[settings.tokenEnv];
  if (!token) problems.push(`environment variable ${settings.tokenEnv} (Xen Orchestra token, from 'xo-cli create-token') is not set`);
  if (problems.length > 0) throw new XoSettingsError(`invalid Xen Orchestra settings: ${problems.join("; ")}`);
  return token!;
}
