import { suggest } from "../suggest.ts";
import { isKnownTimeZone, WINDOWS_TO_IANA } from "../time-zones.ts";
import { perRecipe } from "./report.ts";

/**
 * The time zone is one the answer-file generator can hand to the installer: a zone that exists
 * nowhere would otherwise pass validate and fail the build (or, on Windows, silently fall back).
 */
export const osTimezone = perRecipe(
  { id: "os-timezone", severity: "error", description: "os.timezone is a zone the answer media can set: a known Windows zone, or for Linux any IANA zone" },
  function* (doc) {
    const { timezone, family } = doc.value.os;
    if (timezone === undefined || isKnownTimeZone(timezone, family)) return;
    const windows = [...WINDOWS_TO_IANA.keys()];
    const candidates = family === "windows" ? [...windows, ...WINDOWS_TO_IANA.values()] : [...WINDOWS_TO_IANA.values(), ...windows];
    const guess = suggest(timezone, candidates);
    yield {
      pointer: "/os/timezone",
      message: family === "windows"
        ? `os.timezone is not a zone rebake can set on Windows; it knows ${windows.length} Windows zones and their IANA names`
        : "os.timezone is neither an IANA zone nor a Windows zone rebake can translate",
      got: timezone,
      hint: guess ? `did you mean '${guess}'?` : family === "windows" ? `write a Windows zone name, e.g. "W. Europe Standard Time" (known: ${windows.join(", ")})` : 'write an IANA zone, e.g. "Europe/Berlin"',
    };
  },
);
