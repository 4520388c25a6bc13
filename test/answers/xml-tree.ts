/**
 * Parses XML with an independent parser (Python's ElementTree, which ships with Debian's
 * python3 that cloud-init already needs) so tests check well-formedness and namespaces with
 * something other than the code that wrote the file. Comments and indentation are dropped.
 */
import { createExec } from "../../src/util/exec.ts";

export interface XmlNode {
  /** `{namespace}local`, as ElementTree resolves names. */
  readonly tag: string;
  readonly attrib: Readonly<Record<string, string>>;
  /** Text of a leaf element; "" for elements with children. */
  readonly text: string;
  readonly children: readonly XmlNode[];
}

const SYSTEM_PYTHON = "/usr/bin/python3";

const PARSE = `
import json, sys, xml.etree.ElementTree as ET
def node(e):
    return {"tag": e.tag, "attrib": dict(sorted(e.attrib.items())),
            "text": (e.text or "") if len(e) == 0 else "", "children": [node(c) for c in e]}
print(json.dumps(node(ET.fromstring(sys.stdin.buffer.read()))))
`;

const exec = createExec();

/** Throws (CommandFailedError with the parser's message) when the document is not well-formed. */
export async function parseXml(document: string): Promise<XmlNode> {
  const { stdout } = await exec(SYSTEM_PYTHON, ["-c", PARSE], { input: document });
  return JSON.parse(stdout) as XmlNode;
}

/** Every element with its slash-separated path of local names. */
export function* walk(node: XmlNode, path = ""): Generator<{ readonly path: string; readonly node: XmlNode }> {
  const here = `${path}/${localName(node.tag)}`;
  yield { path: here, node };
  for (const child of node.children) yield* walk(child, here);
}

export function localName(tag: string): string {
  return tag.replace(/^\{[^}]*\}/, "");
}
