/**
 * MAC addresses as people write them (`aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`, `aabbccddeeff`),
 * normalised to the dash-separated upper-case form the PVS console and `New-PvsDevice -DeviceMac`
 * show, so two spellings of one address compare equal.
 */
const SEPARATED = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;
const BARE = /^[0-9a-f]{12}$/i;

export type MacCheck = { readonly ok: true; readonly mac: string } | { readonly ok: false; readonly reason: string };

export function normaliseMac(text: string): MacCheck {
  const value = text.trim();
  let hex: string | undefined;
  const separated = SEPARATED.exec(value);
  if (separated) hex = separated.slice(1).filter((_, i) => i !== 1).join("");
  else if (BARE.test(value)) hex = value;
  if (!hex) return { ok: false, reason: "not a MAC address: write six hex pairs as aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or aabbccddeeff" };
  const first = Number.parseInt(hex.slice(0, 2), 16);
  // The low bit of the first octet marks group addresses: no network card sends from one.
  if (first & 1) return { ok: false, reason: "a multicast or broadcast address, which no network card boots with; check for a typo in the first pair" };
  if (/^0{12}$/.test(hex)) return { ok: false, reason: "the all-zero address is a placeholder, not a device" };
  return { ok: true, mac: hex.toUpperCase().match(/../g)!.join("-") };
}

/** `AA-BB-CC-DD-EE-FF` -> `aabbccddeeff`: stable, separator-free, fit for resource names. */
export function macKey(mac: string): string {
  return mac.replace(/-/g, "").toLowerCase();
}
