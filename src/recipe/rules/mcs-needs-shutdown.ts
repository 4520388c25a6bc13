import { perRecipe } from "./report.ts";

/** MCS snapshots a powered-off golden VM. */
export const mcsNeedsShutdown = perRecipe(
  { id: "mcs-needs-shutdown", severity: "error", description: "an MCS image is shut down before the snapshot (target.shutdown is not false)" },
  function* (doc) {
    const target = doc.value.target;
    if (target.kind !== "mcs" || target.shutdown !== false) return;
    yield {
      pointer: "/target/shutdown",
      message: "MCS snapshots a powered-off master: the golden VM is shut down, then snapshotted, and the catalog points at that snapshot",
      got: false,
      hint: "remove target.shutdown (it defaults to true) or set it to true",
    };
  },
);
