/**
 * `pulumi:key` references of a stack, read with the Pulumi CLI (`pulumi config get`, which
 * decrypts stack secrets) before the build starts, so secret resolution stays synchronous and a
 * missing key fails before any VM exists. Values are kept in memory only; the CLI's output is
 * never logged (the exec layer is quiet, and errors carry the key, not the value).
 */
import type { Exec } from "../util/exec.ts";

const PULUMI_REF = /^pulumi:([A-Za-z0-9_.:-]+)$/;
/** The Pulumi CLI answers from the local backend or the service: allow for a slow login. */
export const PULUMI_CONFIG_TIMEOUT_MS = 60_000;

export interface PulumiSecretsOptions {
  /** The stack whose configuration holds the secrets. */
  readonly stack: string;
  /** The project directory (Pulumi.yaml). */
  readonly cwd: string;
  readonly exec: Exec;
  /** @default "pulumi" on PATH */
  readonly binary?: string;
  readonly signal?: AbortSignal;
}

/** The `pulumi:` keys among `values` (strings that are not references are ignored). */
export function pulumiKeys(values: readonly unknown[]): string[] {
  const keys = values.flatMap((value) => (typeof value === "string" ? [PULUMI_REF.exec(value)?.[1]] : [])).filter((key): key is string => key !== undefined);
  return [...new Set(keys)];
}

/** Reads each key once; the result answers undefined for a key the stack does not set. */
export async function readPulumiSecrets(keys: readonly string[], options: PulumiSecretsOptions): Promise<(key: string) => string | undefined> {
  const values = new Map<string, string>();
  for (const key of keys) {
    const result = await options.exec(options.binary ?? "pulumi", ["config", "get", key, "--stack", options.stack], {
      cwd: options.cwd,
      nothrow: true,
      timeoutMs: PULUMI_CONFIG_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // `pulumi config get` prints the value and a newline; a missing key exits non-zero.
    if (result.exitCode === 0) values.set(key, result.stdout.replace(/\r?\n$/, ""));
  }
  return (key) => values.get(key);
}
