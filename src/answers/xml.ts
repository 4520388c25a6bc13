/**
 * A minimal XML writer for answer files: elements, attributes and text, every value escaped.
 * Building a tree (instead of templating strings) is what makes escaping impossible to forget.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes?: Readonly<Record<string, string>>;
  /** Child elements, or the element's text. */
  readonly content?: readonly XmlElement[] | string;
}

/** A value cannot be written into XML 1.0 at all (control characters have no escape). */
export class XmlValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Characters XML 1.0 forbids even when escaped: C0 controls other than tab, LF, CR. */
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

const INDENT = "  ";

export function el(name: string, content?: readonly XmlElement[] | string, attributes?: Readonly<Record<string, string>>): XmlElement {
  return { name, ...(attributes ? { attributes } : {}), ...(content !== undefined ? { content } : {}) };
}

export function escapeXml(value: string, where: string): string {
  if (FORBIDDEN.test(value)) {
    throw new XmlValueError(`${where} contains a control character that XML cannot carry; remove it from the value`);
  }
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Serialises a document: declaration, then the root, indented, one element per line. */
export function renderXml(root: XmlElement): string {
  const lines = ['<?xml version="1.0" encoding="utf-8"?>'];
  write(root, 0, lines);
  return `${lines.join("\n")}\n`;
}

function write(node: XmlElement, depth: number, lines: string[]): void {
  const pad = INDENT.repeat(depth);
  const attributes = Object.entries(node.attributes ?? {})
    .map(([key, value]) => ` ${key}="${escapeXml(value, `attribute ${key} of <${node.name}>`)}"`)
    .join("");
  const open = `${pad}<${node.name}${attributes}`;
  if (node.content === undefined || node.content.length === 0) {
    lines.push(`${open} />`);
  } else if (typeof node.content === "string") {
    lines.push(`${open}>${escapeXml(node.content, `<${node.name}>`)}</${node.name}>`);
  } else {
    lines.push(`${open}>`);
    for (const child of node.content) write(child, depth + 1, lines);
    lines.push(`${pad}</${node.name}>`);
  }
}
