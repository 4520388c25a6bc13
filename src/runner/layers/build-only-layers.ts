/**
 * What the two stores whose layers live only as long as the build have in common: nothing is
 * resumed, begun, saved beside a layer, committed or evicted; the work dir (and, for snapshots, the
 * VM) takes the layers with it.
 */
import type { CheckpointOptions } from "../../hypervisors/driver.ts";
import type { ResumePoint } from "./layer-store.ts";

export abstract class BuildOnlyLayers {
  async resume(): Promise<ResumePoint> {
    return { prefix: 0 };
  }

  async begin(): Promise<void> {}

  checkpointOptions(): CheckpointOptions {
    return {};
  }

  async commit(): Promise<undefined> {
    return undefined;
  }

  async evict(): Promise<void> {}
}
