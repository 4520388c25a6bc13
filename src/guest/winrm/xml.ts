/**
 * Just enough XML for WS-Management: escaping for the envelopes we build, and reading the flat,
 * non-recursive elements a WinRS reply carries (ShellId, CommandId, Stream, CommandState, ExitCode,
 * fault texts) by local name, whatever prefix the server bound the namespace to. A full parser
 * (and a dependency) buys nothing for these replies.
 */

export interface XmlElement {
  readonly attributes: Readonly<Record<string, string>>;
  /** Unescaped text content; "" for an empty or self-closing element. */
  readonly text: string;
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

export function unescapeXml(value: string): string {
  return value.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_, entity: string) => {
    switch (entity) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
      default:
        return String.fromCodePoint(entity.startsWith("#x") ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
    }
  });
}

/** Every element with this local name, in document order. Elements must not nest inside one of the same name. */
export function elements(xml: string, localName: string): XmlElement[] {
  const pattern = new RegExp(`<(?:[\\w.-]+:)?${localName}((?:\\s+[\\w.:-]+\\s*=\\s*(?:"[^"]*"|'[^']*'))*)\\s*(?:/>|>([\\s\\S]*?)</(?:[\\w.-]+:)?${localName}\\s*>)`, "g");
  return [...xml.matchAll(pattern)].map((match) => ({ attributes: attributes(match[1] ?? ""), text: unescapeXml((match[2] ?? "").trim()) }));
}

/** The text of the first element with this local name. */
export function firstText(xml: string, localName: string): string | undefined {
  return elements(xml, localName)[0]?.text;
}

function attributes(source: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const match of source.matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    const name = match[1]!.replace(/^[\w.-]+:/, "");
    result[name] = unescapeXml(match[2] ?? match[3] ?? "");
  }
  return result;
}
