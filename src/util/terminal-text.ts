/**
 * The one escaping function for everything rebake prints: text from a recipe, an app, a stack, a
 * manifest or a file name may hold terminal control sequences, and they must be shown, not obeyed.
 */

/** The one control sequence rebake writes itself: back to the start of the line and clear it. */
export const CLEAR_LINE = "\r\x1b[2K";

/** C0 controls except tab, newline and the CR of a CRLF, DEL, and the C1 controls (0x9b is a one-byte CSI). */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)/g;

/** Each control character as `\uXXXX`: readable on a terminal and still valid inside JSON strings. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** {@link escapeControl}, keeping rebake's own {@link CLEAR_LINE} (live progress on a terminal). */
export function escapeOutput(text: string): string {
  return text.split(CLEAR_LINE).map(escapeControl).join(CLEAR_LINE);
}
