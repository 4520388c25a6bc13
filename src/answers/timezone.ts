/**
 * The recipe's time zone in the spelling each installer wants. A recipe may name an IANA zone
 * ("Europe/Berlin") or a Windows zone ("W. Europe Standard Time"); cloud-init needs the first,
 * Windows Setup the second. The pairs below are CLDR's windowsZones mapping for the zones a
 * golden image is most likely built in; any other zone must be given in the target's own form.
 */
import type { Recipe } from "../recipe/model.ts";

/** Matches the @default of OsSpec.timezone. */
export const DEFAULT_TIMEZONE = "UTC";

/** Windows zone name -> IANA zone (CLDR windowsZones, territory "001"). */
const WINDOWS_TO_IANA: ReadonlyMap<string, string> = new Map([
  ["UTC", "UTC"],
  ["GMT Standard Time", "Europe/London"],
  ["W. Europe Standard Time", "Europe/Berlin"],
  ["Romance Standard Time", "Europe/Paris"],
  ["Central Europe Standard Time", "Europe/Budapest"],
  ["Central European Standard Time", "Europe/Warsaw"],
  ["GTB Standard Time", "Europe/Bucharest"],
  ["FLE Standard Time", "Europe/Kyiv"],
  ["Turkey Standard Time", "Europe/Istanbul"],
  ["Russian Standard Time", "Europe/Moscow"],
  ["Israel Standard Time", "Asia/Jerusalem"],
  ["South Africa Standard Time", "Africa/Johannesburg"],
  ["Arabian Standard Time", "Asia/Dubai"],
  ["India Standard Time", "Asia/Kolkata"],
  ["Singapore Standard Time", "Asia/Singapore"],
  ["China Standard Time", "Asia/Shanghai"],
  ["Tokyo Standard Time", "Asia/Tokyo"],
  ["Korea Standard Time", "Asia/Seoul"],
  ["AUS Eastern Standard Time", "Australia/Sydney"],
  ["New Zealand Standard Time", "Pacific/Auckland"],
  ["Eastern Standard Time", "America/New_York"],
  ["Central Standard Time", "America/Chicago"],
  ["Mountain Standard Time", "America/Denver"],
  ["US Mountain Standard Time", "America/Phoenix"],
  ["Pacific Standard Time", "America/Los_Angeles"],
  ["Alaskan Standard Time", "America/Anchorage"],
  ["Hawaiian Standard Time", "Pacific/Honolulu"],
  ["Atlantic Standard Time", "America/Halifax"],
  ["E. South America Standard Time", "America/Sao_Paulo"],
]);

const IANA_TO_WINDOWS: ReadonlyMap<string, string> = new Map(
  [...WINDOWS_TO_IANA].map(([windows, iana]) => [iana, windows]),
);

/** The time zone cannot be expressed in the form the installer needs. */
export class TimeZoneError extends Error {
  constructor(message: string, readonly timezone: string) {
    super(message);
    this.name = new.target.name;
  }
}

function isIana(zone: string): boolean {
  if (/\s/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
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
  // Not IANA and not in the table: taken as a Windows name; only Windows knows its full list.
  if (!isIana(zone)) return zone;
  throw new TimeZoneError(
    `os.timezone ${JSON.stringify(zone)} is an IANA zone rebake cannot translate for Windows; write the Windows name instead (\`tzutil /l\` lists them), e.g. "W. Europe Standard Time"`,
    zone,
  );
}
