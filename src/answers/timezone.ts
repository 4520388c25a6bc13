/**
 * The recipe's time zone in the spelling each installer wants. A recipe may name an IANA zone
 * ("Europe/Berlin") or a Windows zone ("W. Europe Standard Time"); cloud-init needs the first,
 * Windows Setup the second. The pairs below are CLDR's windowsZones mapping for the zones a
 * golden image is most likely built in (src/recipe/time-zones.ts); validate refuses any other.
 */
import type { Recipe } from "../recipe/model.ts";
import { IANA_TO_WINDOWS, isIana, WINDOWS_TO_IANA } from "../recipe/time-zones.ts";

/** Matches the @default of OsSpec.timezone. */
export const DEFAULT_TIMEZONE = "UTC";

/** The time zone cannot be expressed in the form the installer needs. */
export class TimeZoneError extends Error {
  constructor(message: string, readonly timezone: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The IANA zone for cloud-init's `timezone`. */
export function ianaTimeZone(recipe: Recipe): string {
  const zone = recipe.os.timezone ?? DEFAULT_TIMEZONE;
  const mapped = WINDOWS_TO_IANA.get(zone);
  if (mapped !== undefined) return mapped;
  if (isIana(zone)) return zone;
  throw new TimeZoneError(
    `os.timezone ${JSON.stringify(zone)} is neither an IANA zone nor a Windows zone rebake can translate; for a Linux image write the IANA name, e.g. "Europe/Berlin"`,
    zone,
  );
}

/** The Windows zone name for the unattend TimeZone setting. */
export function windowsTimeZone(recipe: Recipe): string {
  const zone = recipe.os.timezone ?? DEFAULT_TIMEZONE;
  if (WINDOWS_TO_IANA.has(zone)) return zone;
  const mapped = IANA_TO_WINDOWS.get(zone);
  if (mapped !== undefined) return mapped;
  throw new TimeZoneError(
    `os.timezone ${JSON.stringify(zone)} is not a Windows zone rebake knows (the os-timezone rule lists them); write one of those, e.g. "W. Europe Standard Time"`,
    zone,
  );
}
