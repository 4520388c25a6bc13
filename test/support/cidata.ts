/**
 * The NoCloud CIDATA ISO the test OS installer reads, written by the product's own answer-media
 * code, so the integration tests boot from the same kind of media a build attaches.
 */
import { join } from "node:path";
import { createAnswerMedia } from "../../src/answers/media.ts";
import { createExec, type Exec } from "../../src/util/exec.ts";

export interface Seed {
  readonly metaData: string;
  readonly userData: string;
}

/** A host named rebake-it that powers off when the install is done. */
export const DEFAULT_SEED: Seed = {
  metaData: "instance-id: rebake-it\nlocal-hostname: rebake-it\n",
  userData: "#cloud-config\nhostname: rebake-it\npower_state:\n  mode: poweroff\n",
};

/** Writes `<dir>/cidata.iso` holding the seed's meta-data and user-data; returns its path. */
export async function cidataIso(dir: string, seed: Seed = DEFAULT_SEED, exec: Exec = createExec()): Promise<string> {
  const files = new Map([["meta-data", seed.metaData], ["user-data", seed.userData]]);
  const { path } = await createAnswerMedia(files, { volumeLabel: "CIDATA", outPath: join(dir, "cidata.iso"), exec, tempDir: dir });
  return path;
}
