/**
 * The build administrator's password: random per build, handed to autounattend.xml and to the
 * guest channel, and registered for redaction. It never appears in a recipe or a log.
 */
import { randomInt } from "node:crypto";

/** Long enough to resist guessing for the hours a build VM lives. */
export const ADMIN_PASSWORD_LENGTH = 24;

const LOWER = "abcdefghijkmnopqrstuvwxyz";
const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS = "23456789";
// Symbols that need no quoting in cmd, PowerShell or XML, so the password survives every hop.
const SYMBOLS = "-_.+=#@";
const CLASSES = [LOWER, UPPER, DIGITS, SYMBOLS] as const;
const ALPHABET = CLASSES.join("");

/**
 * A password that meets Windows' default complexity rule (characters from at least three of
 * upper, lower, digit, symbol; here always all four).
 */
export function generateAdminPassword(random: (max: number) => number = randomInt): string {
  for (;;) {
    let password = "";
    for (let i = 0; i < ADMIN_PASSWORD_LENGTH; i++) password += ALPHABET[random(ALPHABET.length)];
    if (CLASSES.every((chars) => [...password].some((c) => chars.includes(c)))) return password;
  }
}
