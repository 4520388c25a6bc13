/** The recording fake of PowerShellExecutor: records each script and answers from a table. */
import type { ExecResult } from "../util/exec.ts";
import { PowerShellError, type PowerShellExecutor } from "./executor.ts";

export interface RecordingExecutor extends PowerShellExecutor {
  /** The scripts run, in order. */
  readonly scripts: string[];
}

/**
 * `answer` gives the stdout of each script, or an exit code other than 0, which fails the run
 * the way the real executors do (PowerShellError).
 */
export function recordingExecutor(answer: (script: string) => { stdout?: string; exitCode?: number } = () => ({}), where = "recording executor"): RecordingExecutor {
  const scripts: string[] = [];
  return {
    where,
    scripts,
    async run(script) {
      scripts.push(script);
      const { stdout = "", exitCode = 0 } = answer(script);
      const result: ExecResult = { command: where, exitCode, stdout, stderr: "" };
      if (exitCode !== 0) throw new PowerShellError(`the script failed on ${where} with exit code ${exitCode}`, where);
      return result;
    },
  };
}
