import { inputRule } from "./declared-inputs.ts";

/** An explicitly unpinned download is allowed, but reported so nobody forgets it. */
export const inputUnpinned = inputRule(
  {
    id: "input-unpinned",
    severity: "warning",
    description: "a url input allowed without sha256 by unpinned: {reason} is reported with its reason",
  },
  function* ({ pointer, label, source }) {
    if (source.url === undefined || source.sha256 !== undefined || source.unpinned === undefined) return;
    yield {
      pointer: `${pointer}/unpinned`,
      message: `${label} is NOT PINNED: ${source.unpinned.reason}; the build downloads whatever the URL serves at the time`,
      got: source.url,
      hint: "download it once, then replace unpinned with sha256: <digest> so rebuilds are reproducible",
    };
  },
);
