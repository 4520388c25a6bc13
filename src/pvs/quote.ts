/** The PVS scripts quote with the one PowerShell quoting function every generator shares. */
export { psQuote } from "../util/powershell-quote.ts";
