/** Records a verification in the manifest it verified (rewritten atomically). */
import type { BuildManifest, Verification } from "../manifest/model.ts";
import { writeManifest } from "../manifest/write-manifest.ts";

export async function recordVerification(manifestPath: string, manifest: BuildManifest, verification: Verification): Promise<BuildManifest> {
  const updated: BuildManifest = { ...manifest, verification };
  await writeManifest(manifestPath, updated);
  return updated;
}
