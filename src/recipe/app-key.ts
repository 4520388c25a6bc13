/**
 * App identity: an app definition is identified by `name@version`, the same string recipes and
 * `dependsOn` use to reference it.
 */

/** Separates the app name from its version in an app reference. */
export const APP_REF_SEPARATOR = "@";

export interface AppRefParts {
  readonly name: string;
  readonly version: string;
}

/** An app reference that is not `name@version`. */
export class InvalidAppRefError extends Error {
  constructor(readonly ref: string) {
    super(`an app reference is "name@version", e.g. "7zip@24.07", got: ${JSON.stringify(ref)}`);
    this.name = "InvalidAppRefError";
  }
}

/** Splits `name@version`; the version may itself contain no `@`, the name must be non-empty. */
export function parseAppRef(ref: string): AppRefParts {
  const at = ref.indexOf(APP_REF_SEPARATOR);
  const name = ref.slice(0, at);
  const version = ref.slice(at + 1);
  if (at <= 0 || version === "" || version.includes(APP_REF_SEPARATOR)) throw new InvalidAppRefError(ref);
  return { name, version };
}

/** The `name@version` key of an app definition. */
export function appKey(app: AppRefParts): string {
  return `${app.name}${APP_REF_SEPARATOR}${app.version}`;
}
