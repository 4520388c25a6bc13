import { inputRule } from "./declared-inputs.ts";

/** A downloaded input is pinned by sha256, unless `unpinned` says why not (input-unpinned warns then). */
export const inputPinned = inputRule(
  {
    id: "input-pinned",
    severity: "error",
    description: "every input with a url has a sha256, unless unpinned: {reason} allows it explicitly",
  },
  function* ({ pointer, label, source }) {
    if (source.url === undefined || source.sha256 !== undefined || source.unpinned !== undefined) return;
    yield {
      pointer: `${pointer}/url`,
      message: `${label} is downloaded without a sha256; an unpinned download can change under the same recipe and break the rebuild-from-scratch promise`,
      got: source.url,
      hint: `add sha256: <64 hex digits of the file>, or if it truly cannot be pinned yet: unpinned: { reason: "..." }`,
    };
  },
);
