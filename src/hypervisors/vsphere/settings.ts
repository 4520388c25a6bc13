/**
 * Where the vSphere driver builds: the vCenter, its inventory names and the environment variables
 * that hold the credentials. Settings come from a stack file or flags and never hold a secret.
 */

/** The names of environment variables, never their values: stacks are committed. */
export interface CredentialRefs {
  readonly usernameEnv: string;
  readonly passwordEnv: string;
}

export interface VsphereSettings {
  /** The vCenter or ESXi SDK endpoint, e.g. https://vcenter.corp.example/sdk (no credentials in it). */
  readonly url: string;
  readonly datacenter: string;
  /** Datastore for the VM and the uploaded ISOs. */
  readonly datastore: string;
  /** Port group the VM's NIC joins. */
  readonly network: string;
  /** Resource pool inventory path; @default the datacenter's default pool (govc's choice) */
  readonly resourcePool?: string;
  /** VM folder; @default the datacenter's vm folder */
  readonly folder?: string;
  /** Datastore folder for the ISOs. @default DEFAULT_ISO_FOLDER */
  readonly isoFolder?: string;
  /** vSphere guest id. @default DEFAULT_GUEST_ID */
  readonly guestId?: string;
  /** Skip TLS verification (self-signed lab vCenters, vcsim). @default false */
  readonly insecure?: boolean;
  readonly credentials: CredentialRefs;
  /** Guest OS account for VMware Tools guest operations. */
  readonly guestCredentials?: CredentialRefs;
  /** The Citrix hosting unit that points at this vCenter; names the MCS snapshot path. */
  readonly hostingUnit?: string;
  /** Turn the VM into a template after the MCS snapshot. @default false */
  readonly markAsTemplate?: boolean;
}

export const DEFAULT_ISO_FOLDER = "rebake-iso";
/** Windows Server 2016 and later; vSphere reuses it for 2019 and 2022. */
export const DEFAULT_GUEST_ID = "windows9Server64Guest";

export class VsphereSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The govc environment for these settings; throws when a credential variable is unset. */
export function govcEnvironment(settings: VsphereSettings, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const problems: string[] = [];
  for (const [field, value] of [["url", settings.url], ["datacenter", settings.datacenter], ["datastore", settings.datastore], ["network", settings.network]] as const) {
    if (!value?.trim()) problems.push(`${field} must not be empty`);
  }
  if (/\/\/[^/]*@/.test(settings.url)) problems.push(`url must not carry credentials, got a user part in it: put them in ${settings.credentials.usernameEnv}/${settings.credentials.passwordEnv}`);
  const username = env[settings.credentials.usernameEnv];
  const password = env[settings.credentials.passwordEnv];
  if (!username) problems.push(`environment variable ${settings.credentials.usernameEnv} (vSphere user name) is not set`);
  if (password === undefined) problems.push(`environment variable ${settings.credentials.passwordEnv} (vSphere password) is not set`);
  if (problems.length > 0) throw new VsphereSettingsError(`invalid vSphere settings: ${problems.join("; ")}`);
  return {
    GOVC_URL: settings.url,
    GOVC_USERNAME: username,
    GOVC_PASSWORD: password,
    GOVC_DATACENTER: settings.datacenter,
    GOVC_INSECURE: settings.insecure ? "1" : "0",
    // A session file in ~/.govmomi would outlive the build and skip the login check.
    GOVC_PERSIST_SESSION: "false",
  };
}

/** GOVC_GUEST_LOGIN for guest operations, so the guest password never appears in arguments. */
export function guestLoginEnvironment(settings: VsphereSettings, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const refs = settings.guestCredentials;
  if (!refs) throw new VsphereSettingsError("guestCredentials are not set: VMware Tools guest operations need a guest account (usernameEnv, passwordEnv)");
  const username = env[refs.usernameEnv];
  const password = env[refs.passwordEnv];
  if (!username || password === undefined) {
    throw new VsphereSettingsError(`environment variables ${refs.usernameEnv} and ${refs.passwordEnv} (guest account) must be set for VMware Tools guest operations`);
  }
  return { GOVC_GUEST_LOGIN: `${username}:${password}` };
}
