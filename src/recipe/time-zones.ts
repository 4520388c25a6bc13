/**
 * The time zones rebake can give each installer: Windows Setup takes a Windows zone name,
 * cloud-init an IANA zone. The pairs are CLDR's windowsZones mapping (territory "001") for the
 * zones a golden image is most likely built in; a Linux image may also name any IANA zone.
 */
import type { OsFamily } from "./model.ts";

/** Windows zone name -> IANA zone (CLDR windowsZones, territory "001"). */
export const WINDOWS_TO_IANA: ReadonlyMap<string, string> = new Map([
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

export const IANA_TO_WINDOWS: ReadonlyMap<string, string> = new Map(
  [...WINDOWS_TO_IANA].map(([windows, iana]) => [iana, windows]),
);

export function isIana(zone: string): boolean {
  if (/\s/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Whether the answer-file generator can give this zone to the installer of `family`. */
export function isKnownTimeZone(zone: string, family: OsFamily): boolean {
  if (WINDOWS_TO_IANA.has(zone)) return true;
  return family === "windows" ? IANA_TO_WINDOWS.has(zone) : isIana(zone);
}
