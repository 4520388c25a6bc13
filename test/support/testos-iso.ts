/**
 * The test OS ISO for integration tests: built (or found in its cache) by scripts/build-testos.sh,
 * never skipped over when missing. A test that needs it builds it or fails with the build's error.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createExec } from "../../src/util/exec.ts";

const BUILD_SCRIPT = fileURLToPath(new URL("../../scripts/build-testos.sh", import.meta.url));
/** A cold build downloads and unpacks Debian packages; a cached one answers at once. */
export const TESTOS_BUILD_TIMEOUT_MS = 15 * 60_000;

/** The path of the test OS ISO at its default place (build/testos), built first when missing or stale. */
export async function testOsIso(): Promise<string> {
  const { stdout } = await createExec()("bash", [BUILD_SCRIPT], { timeoutMs: TESTOS_BUILD_TIMEOUT_MS });
  const iso = stdout.trim().split("\n").at(-1) ?? "";
  if (!existsSync(iso)) throw new Error(`scripts/build-testos.sh printed '${iso}', which does not exist`);
  return iso;
}
