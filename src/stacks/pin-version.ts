/**
 * Changes the pinned image version in a stack file in place: only the characters of the version
 * scalar change, so comments, key order and layout stay and the change is a one-line diff that a
 * release manager reviews. Written to a temp name and renamed.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { isScalar, parseDocument, Scalar } from "yaml";
import { parseStack } from "./load-stack.ts";
import { CONFIG_NAMESPACE } from "./stack-shape.ts";

export class PinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface PinChange {
  readonly file: string;
  readonly from: string;
  readonly to: string;
  /** The new file text. */
  readonly text: string;
}

/** The stack file text with `rebake:image.version` set to `version`. */
export function pinVersionText(text: string, file: string, stack: string, version: string): PinChange {
  const current = parseStack(text, file, stack);
  const doc = parseDocument(text, { keepSourceTokens: true });
  const node = doc.getIn(["config", `${CONFIG_NAMESPACE}:image`, "version"], true);
  if (!isScalar(node) || !node.range) throw new PinError(`${file}: ${CONFIG_NAMESPACE}:image.version is not a plain value; write it as version: ${current.image.version}`);
  const [start, valueEnd] = node.range;
  const next = `${text.slice(0, start)}${render(node, version)}${text.slice(valueEnd)}`;
  // The edit must load back with exactly the new version, or nothing is written.
  const check = parseStack(next, file, stack);
  if (check.image.version !== version) throw new PinError(`${file}: pinning ${version} produced version ${check.image.version}; edit the file by hand`);
  return { file, from: current.image.version, to: version, text: next };
}

/** Keeps the quoting style the file used. */
function render(node: Scalar, version: string): string {
  if (node.type === Scalar.QUOTE_DOUBLE) return JSON.stringify(version);
  if (node.type === Scalar.QUOTE_SINGLE) return `'${version.replace(/'/g, "''")}'`;
  return version;
}

/** Rewrites the stack file at `path` (temp + rename). */
export async function pinVersion(path: string, file: string, stack: string, version: string): Promise<PinChange> {
  const change = pinVersionText(await readFile(path, "utf8"), file, stack, version);
  if (change.from === change.to) return change;
  const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, change.text);
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
  return change;
}
