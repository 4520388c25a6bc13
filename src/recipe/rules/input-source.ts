import { inputRule } from "./declared-inputs.ts";

/** A Source names exactly one file: a local path or a URL. */
export const inputSource = inputRule(
  {
    id: "input-source",
    severity: "error",
    description: "every input (ISO, installer, driver, app source) names exactly one of path and url",
  },
  function* ({ pointer, label, source }) {
    if (source.path !== undefined && source.url !== undefined) {
      yield {
        pointer,
        message: `${label} gives both path and url; an input is one file, either local or downloaded`,
        got: { path: source.path, url: source.url },
        hint: "keep path for a local file or url (with sha256) for a download, not both",
      };
    } else if (source.path === undefined && source.url === undefined) {
      yield {
        pointer,
        message: `${label} names no file; an input needs a path or a url`,
        got: source,
        hint: "add path: <file relative to this YAML> or url: <download address> with sha256",
      };
    }
  },
);
