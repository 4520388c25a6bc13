/**
 * The OpenSSH client options every ssh and scp call shares: no user config (-F none), key only
 * (BatchMode: never a password prompt), the host key learned on first contact into the build's own
 * known_hosts file, and keepalives so a dead guest is noticed instead of hanging.
 */

export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Private key file; the guest must list its public half in authorized_keys. */
  readonly keyPath: string;
  /** Per-build known_hosts, in the build's runtime dir. */
  readonly knownHostsPath: string;
}

/** How long the TCP connect and SSH handshake may take. */
export const CONNECT_TIMEOUT_S = 10;
/** Keepalive interval; the connection counts as dead after SERVER_ALIVE_COUNT unanswered ones. */
export const SERVER_ALIVE_INTERVAL_S = 15;
export const SERVER_ALIVE_COUNT = 4;

function sharedOptions(target: SshTarget): string[] {
  const options = {
    BatchMode: "yes",
    IdentitiesOnly: "yes",
    PasswordAuthentication: "no",
    StrictHostKeyChecking: "accept-new",
    UserKnownHostsFile: target.knownHostsPath,
    GlobalKnownHostsFile: "/dev/null",
    ConnectTimeout: String(CONNECT_TIMEOUT_S),
    ServerAliveInterval: String(SERVER_ALIVE_INTERVAL_S),
    ServerAliveCountMax: String(SERVER_ALIVE_COUNT),
    // Hides "Permanently added ... to the list of known hosts" from the step's stderr.
    LogLevel: "ERROR",
  };
  return ["-F", "none", "-i", target.keyPath, ...Object.entries(options).flatMap(([key, value]) => ["-o", `${key}=${value}`])];
}

/** Arguments for `ssh` running `command`; `-n` when nothing is sent on stdin. */
export function sshArguments(target: SshTarget, command: string, withInput: boolean): string[] {
  return [...sharedOptions(target), "-p", String(target.port), "-l", target.user, ...(withInput ? [] : ["-n"]), "--", target.host, command];
}

/** Arguments for `scp` copying a local file to the guest (SFTP protocol, OpenSSH >= 9). */
export function scpArguments(target: SshTarget, localPath: string, guestPath: string): string[] {
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  return [...sharedOptions(target), "-q", "-P", String(target.port), "--", localPath, `${target.user}@${host}:${guestPath}`];
}

/** `user@host:port`, for messages. */
export function describeTarget(target: Pick<SshTarget, "host" | "port" | "user">): string {
  return `${target.user}@${target.host}:${target.port}`;
}
