/**
 * The rules for a PVS target device name, which becomes the machine's computer name and its
 * Active Directory account: at most 15 characters (the NetBIOS limit; longer names are cut by
 * Windows and collide), and only letters, digits and hyphens so the same name is a valid DNS host
 * label. All-digit names are refused by Windows setup; a leading hyphen breaks DNS.
 */
export const NETBIOS_NAME_MAX = 15;
const ALLOWED = /^[A-Za-z0-9-]+$/;

/** Why the name is not usable, or undefined when it is. */
export function deviceNameProblem(name: string): { readonly rule: string; readonly message: string; readonly hint: string } | undefined {
  if (name.length > NETBIOS_NAME_MAX) {
    return { rule: "device-name-length", message: `device name is ${name.length} characters, the NetBIOS limit is ${NETBIOS_NAME_MAX}`, hint: `shorten it to ${NETBIOS_NAME_MAX} characters, e.g. ${name.slice(0, NETBIOS_NAME_MAX)}` };
  }
  if (!ALLOWED.test(name)) {
    const bad = [...new Set(name.replace(/[A-Za-z0-9-]/g, ""))].join("");
    return { rule: "device-name-chars", message: `device name has characters a computer name cannot hold: ${JSON.stringify(bad)}`, hint: "use letters, digits and hyphens only" };
  }
  if (/^\d+$/.test(name)) return { rule: "device-name-chars", message: "device name is all digits, which Windows refuses as a computer name", hint: "add a letter, e.g. a site prefix" };
  if (name.startsWith("-")) return { rule: "device-name-chars", message: "device name starts with a hyphen, which DNS refuses", hint: "start with a letter or digit" };
  return undefined;
}
