/**
 * Whether the Pulumi CLI can drive the engine. The Automation API runs `pulumi`; every way it can
 * be unusable ends in the same install advice, naming what went wrong: absent from PATH, present
 * but not executable, the npm wrapper whose binary download failed (it exits non-zero), or a
 * crash (killed by a signal).
 */
import { CommandNotFoundError, ExecError, tail, type Exec } from "../util/exec.ts";

export const PULUMI_INSTALL_ADVICE = `Install the Pulumi CLI with
  npm install --global pulumi        (the pulumi npm package; it downloads the engine at first use,
                                      so run 'pulumi version' once where it can reach get.pulumi.com), or
  curl -fsSL https://get.pulumi.com | sh   (the official installer)
then run 'pulumi login' and try again
`;

/** Lines of the CLI's own output kept in the message. */
const OUTPUT_LINES = 5;
/** Shell exit codes: 126 found but not executable, 127 not found, 128+N killed by signal N. */
const NOT_EXECUTABLE = 126;
const NOT_FOUND = 127;
const SIGNALLED = 128;

export class PulumiUnavailableError extends Error {
  constructor(readonly problem: string, output = "") {
    super(`${problem}.\n${output ? `It said:\n  ${output.replaceAll("\n", "\n  ")}\n` : ""}${PULUMI_INSTALL_ADVICE}`);
    this.name = new.target.name;
  }
}

/** Throws PulumiUnavailableError unless `pulumi version` runs and succeeds. */
export async function checkPulumiCli(exec: Exec, env: NodeJS.ProcessEnv): Promise<void> {
  let result;
  try {
    result = await exec("pulumi", ["version"], { env: { PATH: env.PATH ?? "" }, nothrow: true });
  } catch (error) {
    if (error instanceof CommandNotFoundError) throw new PulumiUnavailableError("the Pulumi CLI is not installed (no 'pulumi' on PATH)");
    if (error instanceof ExecError) throw new PulumiUnavailableError(`the Pulumi CLI did not start (${error.message.split("\n")[0]})`);
    throw error;
  }
  if (result.exitCode === 0) return;
  const output = tail(`${result.stderr}\n${result.stdout}`.trim(), OUTPUT_LINES);
  if (result.exitCode === NOT_FOUND) throw new PulumiUnavailableError("the Pulumi CLI is not installed (no 'pulumi' on PATH)");
  if (result.exitCode === NOT_EXECUTABLE) throw new PulumiUnavailableError(`the 'pulumi' on PATH is not executable (permission denied)`, output);
  if (result.exitCode < 0 || result.exitCode > SIGNALLED) {
    throw new PulumiUnavailableError(`the Pulumi CLI crashed (killed by ${result.signal ?? (result.exitCode > SIGNALLED ? `signal ${result.exitCode - SIGNALLED}` : "a signal")})`, output);
  }
  throw new PulumiUnavailableError(`the Pulumi CLI does not start: 'pulumi version' exited with code ${result.exitCode} (the npm wrapper exits so when it cannot download the engine)`, output);
}
