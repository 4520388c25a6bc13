/** A CliIo that keeps what a command prints, for tests that run the CLI's `main([...])` in process. */
import type { CliIo } from "../../src/cli/io.ts";

export interface CapturedIo extends CliIo {
  /** What went to stdout. */
  readonly out: () => string;
  /** What went to stderr. */
  readonly err: () => string;
  /** Both, in the order they were written: what a failure message should show. */
  readonly all: () => string;
}

export function captureIo(cwd: string, env: NodeJS.ProcessEnv = {}): CapturedIo {
  let out = "";
  let err = "";
  let all = "";
  return {
    stdout: (text) => void ((out += text), (all += text)),
    stderr: (text) => void ((err += text), (all += text)),
    cwd,
    env,
    isTty: false,
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
    all: () => all,
  };
}
