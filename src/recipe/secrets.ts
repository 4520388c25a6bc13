/**
 * Secret references (`env:NAME`, `pulumi:key`) resolved at build time. A recipe never holds a
 * secret value, and nothing here ever puts a resolved value into an error message: errors name
 * the reference and how to provide it.
 */
import type { SecretRef } from "./model.ts";
import { escapeRegExp } from "../util/escape-regexp.ts";

/** Where secret values come from. */
export interface SecretSources {
  /** Environment variables, for `env:NAME`. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Pulumi stack secrets, for `pulumi:key`; absent when the build does not run against a stack.
   * @default undefined (every `pulumi:` reference fails with a hint)
   */
  readonly pulumi?: (key: string) => string | undefined;
}

/**
 * The variable through which `rebake publish` hands a `pulumi:key` value, read from the stack
 * before the engine starts, to the dynamic providers: they run in the engine's processes and see
 * only its environment. The key is hex-encoded so any key maps to one valid variable name.
 */
export function pulumiSecretVariable(key: string): string {
  return `REBAKE_PULUMI_SECRET_${Buffer.from(key, "utf8").toString("hex").toUpperCase()}`;
}

/** The secret sources of a process started by publish: `env:NAME` and the `pulumi:key` values handed in. */
export function environmentSecretSources(env: NodeJS.ProcessEnv): SecretSources {
  return { env, pulumi: (key) => env[pulumiSecretVariable(key)] };
}

/** Resolves one reference to its value. */
export type ResolveSecret = (ref: SecretRef) => string;

/** Base class, so callers can catch every secret failure with one `instanceof`. */
export class SecretError extends Error {
  constructor(
    message: string,
    /** The reference as written in the recipe (never the value). */
    readonly ref: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The reference is not `env:NAME` or `pulumi:key`. */
export class InvalidSecretRefError extends SecretError {}

/** The reference is well formed but no value is available for it. */
export class SecretNotFoundError extends SecretError {}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PULUMI_KEY = /^[A-Za-z0-9_.:-]+$/;

/** The mask that replaces a secret value in logged text. */
export const REDACTED = "[redacted]";

/** Resolves `env:NAME` or `pulumi:key`; an empty value counts as missing. */
export function resolveSecret(ref: SecretRef, sources: SecretSources): string {
  const colon = ref.indexOf(":");
  const scheme = colon < 0 ? "" : ref.slice(0, colon);
  const name = colon < 0 ? "" : ref.slice(colon + 1);
  if (scheme === "env" && ENV_NAME.test(name)) {
    const value = sources.env[name];
    if (value === undefined || value === "") {
      throw new SecretNotFoundError(
        `secret ${ref} is not set: export the environment variable ${name} before the build (e.g. in the CI job's secret variables)`,
        ref,
      );
    }
    return value;
  }
  if (scheme === "pulumi" && PULUMI_KEY.test(name)) {
    if (!sources.pulumi) {
      throw new SecretNotFoundError(
        `secret ${ref} needs a Pulumi stack, but this build runs without one: build with --stack NAME (the stack whose configuration holds the key), or use env:NAME instead`,
        ref,
      );
    }
    const value = sources.pulumi(name);
    if (value === undefined || value === "") {
      // The key before `--secret`: output masking hides whatever follows `--secret `, which would
      // hide the key. Without a value on the command line pulumi prompts for it, which keeps it
      // out of the shell history (https://www.pulumi.com/docs/iac/cli/commands/pulumi_config_set/).
      throw new SecretNotFoundError(
        `secret ${ref} is not in the stack configuration: run \`pulumi config set ${name} --secret\` for the stack (it prompts for the value)`,
        ref,
      );
    }
    return value;
  }
  throw new InvalidSecretRefError(
    `secret reference ${JSON.stringify(ref)} is not valid: write env:NAME (an environment variable) or pulumi:key (a Pulumi stack secret)`,
    ref,
  );
}

/**
 * Some references of a build cannot be resolved: each with how to provide it (never a value), all
 * at once, so one run tells the user everything to set.
 */
export class SecretsMissingError extends Error {
  readonly rule: string;

  constructor(
    readonly errors: readonly SecretError[],
    /** Each error's line; a caller names where a reference was written (a stack key) here. @default its message */
    describe: (error: SecretError) => string = (error) => error.message,
  ) {
    super(
      errors.length === 1
        ? describe(errors[0]!)
        : `${errors.length} secrets cannot be resolved:\n${errors.map((error) => `  - ${describe(error)}`).join("\n")}`,
    );
    this.name = new.target.name;
    this.rule = errors.every((error) => error instanceof SecretNotFoundError) ? "secret-not-found" : "invalid-secret-ref";
  }
}

/**
 * Resolves every reference once, before anything runs, and returns why each that fails does (for
 * one {@link SecretsMissingError} naming them all); the values are not kept.
 */
export function secretErrors(refs: readonly SecretRef[], sources: SecretSources): SecretError[] {
  const errors: SecretError[] = [];
  for (const ref of new Set(refs)) {
    try {
      resolveSecret(ref, sources);
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      errors.push(error);
    }
  }
  return errors;
}


/** A resolver that remembers every value it handed out, so the build can redact them from logs. */
export function createSecretResolver(sources: SecretSources): ResolveSecret & { readonly resolved: ReadonlySet<string> } {
  const resolved = new Set<string>();
  const resolve = (ref: SecretRef): string => {
    const value = resolveSecret(ref, sources);
    resolved.add(value);
    return value;
  };
  return Object.assign(resolve, { resolved: resolved as ReadonlySet<string> });
}

/**
 * Replaces every occurrence of each secret in `text` with {@link REDACTED}. Longer secrets win
 * where they overlap, so a secret that contains another is masked whole, not left half visible.
 */
export function redact(text: string, secrets: Iterable<string>): string {
  const ordered = [...new Set(secrets)].filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return text;
  // One pass over the text, so the mask itself is never rewritten by a later, shorter secret.
  const pattern = new RegExp(ordered.map(escapeRegExp).join("|"), "g");
  return text.replace(pattern, REDACTED);
}
