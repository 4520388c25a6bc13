/** Walks parsed YAML values. */

/** Every string in a document with its JSON pointer, without recursion (depth is bounded by load). */
export function stringLeaves(value: unknown): { pointer: string; text: string }[] {
  const found: { pointer: string; text: string }[] = [];
  const stack: Array<{ pointer: string; value: unknown }> = [{ pointer: "", value }];
  while (stack.length > 0) {
    const { pointer, value: node } = stack.pop()!;
    if (typeof node === "string") found.push({ pointer, text: node });
    else if (node !== null && typeof node === "object") {
      for (const [key, child] of Object.entries(node)) stack.push({ pointer: `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`, value: child });
    }
  }
  return found;
}
