/**
 * An XML parser that shares nothing with the product: one long-lived Python ElementTree process
 * (Debian's python3, which cloud-init already needs), so a contract fake can parse every request
 * with namespaces resolved without paying for a process per document. Documents go in as JSON
 * lines and come back in order as trees (or the parser's error).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { XmlNode } from "../answers/xml-tree.ts";

export type { XmlNode };

const SYSTEM_PYTHON = "/usr/bin/python3";
const READER = `
import json, sys, xml.etree.ElementTree as ET
def node(e):
    return {"tag": e.tag, "attrib": dict(e.attrib), "text": (e.text or "") if len(e) == 0 else "", "children": [node(c) for c in e]}
for line in sys.stdin:
    try:
        out = {"node": node(ET.fromstring(json.loads(line)))}
    except Exception as error:
        out = {"error": str(error)}
    sys.stdout.write(json.dumps(out) + "\\n")
    sys.stdout.flush()
`;

export interface XmlReader {
  /** Rejects with the parser's message when the document is not well-formed XML. */
  parse(document: string): Promise<XmlNode>;
  close(): Promise<void>;
}

export function startXmlReader(): XmlReader {
  const child = spawn(SYSTEM_PYTHON, ["-c", READER], { stdio: ["pipe", "pipe", "inherit"] });
  const waiting: { resolve: (node: XmlNode) => void; reject: (error: Error) => void }[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the XML reader exited with ${code}`));
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    const answer = JSON.parse(line) as { node?: XmlNode; error?: string };
    const next = waiting.shift();
    if (answer.node) next?.resolve(answer.node);
    else next?.reject(new Error(`not well-formed XML: ${answer.error}`));
  });
  return {
    parse: (document) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(document)}\n`);
      }),
    close: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

/** `{namespace}local`, as ElementTree names an element or a namespaced attribute. */
export const qname = (namespace: string, local: string): string => `{${namespace}}${local}`;

/** The direct children of `node` with this qualified name. */
export const childrenNamed = (node: XmlNode | undefined, name: string): XmlNode[] => node?.children.filter((c) => c.tag === name) ?? [];

/** The element at this path of qualified names below `node`, first match at each level. */
export function at(node: XmlNode | undefined, ...path: string[]): XmlNode | undefined {
  return path.reduce<XmlNode | undefined>((current, name) => childrenNamed(current, name)[0], node);
}
