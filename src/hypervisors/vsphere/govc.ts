/**
 * govc through the project's exec layer. Credentials travel in the environment (GOVC_USERNAME,
 * GOVC_PASSWORD), never in arguments, so they stay out of error messages and logs.
 */
import { CommandFailedError, type Exec, type ExecOptions, type ExecResult } from "../../util/exec.ts";
import { VsphereAuthError } from "./errors.ts";

/** One govc call talks to vCenter once or twice; anything slower is a hung connection. */
export const GOVC_DEFAULT_TIMEOUT_MS = 120_000;

/** What vCenter (and vcsim) answer to a bad user name or password. */
const LOGIN_REFUSED = /incorrect user name or password|Login failure|InvalidLogin|401 Unauthorized/i;

export interface GovcOptions {
  readonly exec: Exec;
  /** GOVC_URL, GOVC_USERNAME, GOVC_PASSWORD, GOVC_DATACENTER, GOVC_INSECURE. */
  readonly env: NodeJS.ProcessEnv;
  /** @default "govc" */
  readonly binary?: string;
}

export type GovcCallOptions = Pick<ExecOptions, "timeoutMs" | "signal" | "nothrow"> & {
  /** Extra environment for this call (GOVC_GUEST_LOGIN). */
  readonly env?: NodeJS.ProcessEnv;
};

export class Govc {
  private readonly binary: string;

  constructor(private readonly options: GovcOptions) {
    this.binary = options.binary ?? "govc";
  }

  async run(args: readonly string[], call: GovcCallOptions = {}): Promise<ExecResult> {
    call.signal?.throwIfAborted();
    try {
      const result = await this.options.exec(this.binary, args, {
        env: { ...this.options.env, ...call.env },
        timeoutMs: call.timeoutMs ?? GOVC_DEFAULT_TIMEOUT_MS,
        ...(call.signal ? { signal: call.signal } : {}),
        nothrow: true,
      });
      if (result.exitCode !== 0 && LOGIN_REFUSED.test(result.stderr)) throw authError(this.options.env);
      if (result.exitCode !== 0 && !call.nothrow) throw new CommandFailedError(result);
      return result;
    } catch (error) {
      // The exec layer reports a command killed by the signal as a failure or timeout; the cause is the abort.
      call.signal?.throwIfAborted();
      if (error instanceof CommandFailedError && LOGIN_REFUSED.test(error.result.stderr)) throw authError(this.options.env);
      throw error;
    }
  }

  /** Runs a `-json` command and parses its output. */
  async json<T>(args: readonly string[], call: GovcCallOptions = {}): Promise<T> {
    const result = await this.run([args[0]!, "-json", ...args.slice(1)], call);
    return JSON.parse(result.stdout || "null") as T;
  }

  /** The lines of a listing command (govc ls, datastore.ls). */
  async lines(args: readonly string[], call: GovcCallOptions = {}): Promise<string[]> {
    const result = await this.run(args, call);
    return result.stdout.split("\n").map((line) => line.trim()).filter(Boolean);
  }
}

function authError(env: NodeJS.ProcessEnv): VsphereAuthError {
  return new VsphereAuthError(
    `vSphere at ${env.GOVC_URL} refused the login of user "${env.GOVC_USERNAME}": check the user name and password in the environment variables named by the stack's credentials`,
  );
}
