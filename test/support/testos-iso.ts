/**
 * The test OS ISO for integration tests: built (or found in its cache) by scripts/build-testos.sh,
 * never skipped over when missing. A test that needs it builds it or fails with the build's error.
 */
import { existsSync } from "node:fs";
import { copyFile, link, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
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

/**
 * Puts the test OS ISO into a project copy at build/testos/rebake-testos.iso, as a file of the
 * project: a symlink would lead outside it, which rebake refuses for inputs. A hard link costs
 * nothing; across file systems it is copied.
 */
export async function placeTestOsIso(projectDir: string, iso?: string): Promise<string> {
  const source = iso ?? (await testOsIso());
  const target = join(projectDir, "build/testos/rebake-testos.iso");
  await mkdir(dirname(target), { recursive: true });
  await link(source, target).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== "EXDEV") throw error;
    await copyFile(source, target);
  });
  return target;
}
