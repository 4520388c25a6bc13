/**
 * The host name the golden VM gets during the build. Windows caps computer names at 15 characters
 * (NetBIOS), and the same name on both families keeps build logs comparable.
 */
import type { Recipe } from "../recipe/model.ts";

/** NetBIOS limit, which Windows Setup enforces on ComputerName. */
export const MAX_HOSTNAME_LENGTH = 15;

const VALID_HOSTNAME = /^[A-Za-z0-9-]{1,15}$/;

/** The host name is not usable as a computer name. */
export class HostnameError extends Error {
  constructor(message: string, readonly hostname: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * `os.hostname` when given, otherwise `metadata.name` cut to 15 characters (no trailing hyphen).
 */
export function buildHostname(recipe: Recipe): string {
  const given = recipe.os.hostname;
  const name = given ?? recipe.metadata.name.slice(0, MAX_HOSTNAME_LENGTH).replace(/-+$/, "");
  const source = given === undefined ? "metadata.name" : "os.hostname";
  if (!VALID_HOSTNAME.test(name) || name.startsWith("-") || /^[0-9]+$/.test(name)) {
    throw new HostnameError(
      `host name from ${source} must be 1-${MAX_HOSTNAME_LENGTH} letters, digits or hyphens, not starting with a hyphen and not all digits, got: ${JSON.stringify(name)}; set os.hostname`,
      name,
    );
  }
  return name;
}
