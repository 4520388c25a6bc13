/** Why an SSH call failed, told apart from ssh's exit code 255 and its stderr. */
import { GuestDisconnectedError, GuestError, GuestTimeoutError } from "../channel.ts";
import { tail } from "../../util/exec.ts";

/** The guest refused the key (or sshd is up before the key is installed: waitReady retries it). */
export class SshAuthError extends GuestError {}
/** The guest's host key differs from the one this build saw first. */
export class SshHostKeyError extends GuestError {}
/** The step ran past its timeout and was killed in the guest. */
export class SshCommandTimeoutError extends GuestTimeoutError {}
export class SshUploadError extends GuestError {}
export class SshSettingsError extends GuestError {}

/** ssh's own exit code: connection, authentication or protocol failure (or a remote `exit 255`). */
export const SSH_FAILURE_EXIT = 255;

const AUTH_FAILURE = /Permission denied \(|Too many authentication failures/;
const HOST_KEY_FAILURE = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/;
/** What ssh prints when an established connection goes away (LogLevel=ERROR keeps these). */
const CONNECTION_LOST = /closed by remote host|Connection reset|Broken pipe|Connection to \S+ closed|client_loop:/;

/** The error for an ssh call that failed before the remote command started. */
export function connectionFailure(where: string, keyPath: string, knownHostsPath: string, stderr: string): GuestError {
  const detail = tail(stderr.trim(), 5) || "ssh exited with code 255 and no message";
  if (AUTH_FAILURE.test(stderr)) {
    return new SshAuthError(
      `ssh to ${where} was refused: the key ${keyPath} is not authorized (${detail}). Password authentication is not supported: add the public key (${keyPath}.pub) to the account's authorized_keys in the guest`,
    );
  }
  if (HOST_KEY_FAILURE.test(stderr)) {
    return new SshHostKeyError(`ssh to ${where}: the host key changed since this build first connected (${detail}); if the address now belongs to another VM, remove its line from ${knownHostsPath}`);
  }
  return new GuestDisconnectedError(`ssh to ${where} failed: ${detail}`);
}

/** True when a 255 after the command started is the connection dropping, not the command's own exit code. */
export function isConnectionLost(stderr: string): boolean {
  return CONNECTION_LOST.test(tail(stderr, 3));
}
