/**
 * Answer media: the small ISO attached next to the install ISO that carries the answer files
 * (cloud-init NoCloud `CIDATA` for Linux, autounattend.xml for Windows). Installers find it by
 * its volume label or by scanning removable media, so nothing is ever typed at a boot prompt.
 */
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rename, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { sha256File } from "../util/hash-file.ts";
import type { Recipe } from "../recipe/model.ts";
import type { ResolveSecret } from "../recipe/secrets.ts";
import { CommandFailedError, type Exec } from "../util/exec.ts";
import { renderAutounattend } from "./autounattend.ts";
import { renderCloudInit } from "./cloud-init.ts";
import { DEFAULT_TOOLS_KIND } from "./defaults.ts";
import { GUEST_TOOLS_SCRIPT, guestToolsScript } from "./guest-tools-script.ts";
import { installReport } from "./install-report.ts";

/**
 * Volume labels installers look for: cloud-init's NoCloud source wants CIDATA (or cidata);
 * Red Hat's Kickstart and Windows Setup also find OEMDRV; Windows scans any label.
 */
export type VolumeLabel = "CIDATA" | "OEMDRV" | "REBAKE";

/** The label cloud-init's NoCloud data source requires. */
export const CLOUD_INIT_LABEL: VolumeLabel = "CIDATA";
/** Windows Setup scans every removable drive for autounattend.xml, so any label works. */
export const WINDOWS_ANSWERS_LABEL: VolumeLabel = "REBAKE";

export const AUTOUNATTEND_FILE = "autounattend.xml";
export const USER_DATA_FILE = "user-data";
export const META_DATA_FILE = "meta-data";

/** The date every answer medium carries (2000-01-01T00:00:00Z), whatever day it is built. */
const MEDIA_EPOCH_SECONDS = 946_684_800;

/** Answer media may hold secrets. */
const PRIVATE_FILE_MODE = 0o600;

/** Flat names only: installers read the media root, and a flat name cannot escape the staging dir. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface AnswerMediaOptions {
  readonly volumeLabel: VolumeLabel;
  /** Final path of the ISO; written under a temporary name first and renamed when complete. */
  readonly outPath: string;
  readonly exec: Exec;
  /** Where the files are staged for xorriso. @default os.tmpdir() */
  readonly tempDir?: string;
  readonly signal?: AbortSignal;
}

export interface AnswerMedia {
  readonly path: string;
  readonly sha256: string;
}

/** How xorriso reports that it caught a fatal signal (its own handler prints this, then exits 1). */
const XORRISO_CRASH = /UNIX-SIGNAL:\s+SIG(SEGV|BUS|ILL|FPE|ABRT)/;

/** The answer files or options cannot make an answer medium. */
export class AnswerMediaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Builds an ISO 9660 image with Joliet and Rock Ridge (so both Windows and Linux see the exact
 * file names) holding `files` at its root.
 */
export async function createAnswerMedia(
  files: ReadonlyMap<string, string | Buffer>,
  options: AnswerMediaOptions,
): Promise<AnswerMedia> {
  if (files.size === 0) throw new AnswerMediaError(`no answer files for ${options.outPath}; pass at least one file`);
  for (const name of files.keys()) {
    if (!FILE_NAME.test(name)) {
      throw new AnswerMediaError(`answer file name ${JSON.stringify(name)} is not a plain file name; use letters, digits, dots, hyphens and underscores only`);
    }
  }
  const staging = await mkdtemp(join(options.tempDir ?? tmpdir(), "rebake-answers-"));
  const partial = join(dirname(options.outPath), `.${basename(options.outPath)}.${randomUUID()}.tmp`);
  try {
    // One fixed date for the volume (SOURCE_DATE_EPOCH) and for every file and directory (xorriso
    // copies their mtimes), so the same answer files give the same ISO, byte for byte.
    for (const [name, content] of files) {
      await writeFile(join(staging, name), content);
      await utimes(join(staging, name), MEDIA_EPOCH_SECONDS, MEDIA_EPOCH_SECONDS);
    }
    await utimes(staging, MEDIA_EPOCH_SECONDS, MEDIA_EPOCH_SECONDS);
    const mkisofs = () =>
      options.exec(
        "xorriso",
        ["-as", "mkisofs", "-quiet", "-V", options.volumeLabel, "-J", "-r", "-o", partial, staging],
        { env: { SOURCE_DATE_EPOCH: String(MEDIA_EPOCH_SECONDS) }, ...(options.signal ? { signal: options.signal } : {}) },
      );
    // Debian 12's xorriso 1.5.4 was seen to die of a SIGSEGV once in a loaded test run (never in 300
    // runs of the same command alone): a crash, not an answer about the files, so it gets one more try.
    await mkisofs().catch(async (error: unknown) => {
      if (!(error instanceof CommandFailedError && XORRISO_CRASH.test(error.result.stderr)) || options.signal?.aborted) throw error;
      await rm(partial, { force: true });
      return mkisofs();
    });
    // Windows media carry the administrator password and product key: owner-only, like a key file.
    await chmod(partial, PRIVATE_FILE_MODE);
    const sha256 = await sha256File(partial);
    await rename(partial, options.outPath);
    return { path: options.outPath, sha256 };
  } finally {
    await rm(partial, { force: true });
    await rm(staging, { recursive: true, force: true });
  }
}

export interface AnswerFilesOptions {
  /** The build's id; cloud-init's instance-id is derived from it. */
  readonly buildId: string;
  /** The build administrator's password; required for Windows (see generateAdminPassword). */
  readonly adminPassword?: string;
  /** Resolves secret references such as `os.productKey`. */
  readonly secrets: ResolveSecret;
}

/** The volume label the recipe's installer looks for. */
export function volumeLabelFor(recipe: Recipe): VolumeLabel {
  return recipe.os.family === "linux" ? CLOUD_INIT_LABEL : WINDOWS_ANSWERS_LABEL;
}

/**
 * The answer files for the recipe's OS family, by file name; put them on media labelled
 * {@link volumeLabelFor}. Windows gets autounattend.xml and the first-logon tools script.
 */
export function answerFilesFor(recipe: Recipe, options: AnswerFilesOptions): Map<string, string> {
  switch (recipe.os.family) {
    case "linux": {
      const { metaData, userData } = renderCloudInit(recipe, { buildId: options.buildId });
      return new Map([
        [META_DATA_FILE, metaData],
        [USER_DATA_FILE, userData],
      ]);
    }
    case "windows": {
      if (options.adminPassword === undefined) {
        throw new AnswerMediaError(`recipe ${recipe.metadata.name} installs Windows, which needs an administrator password; pass adminPassword (generateAdminPassword())`);
      }
      const xml = renderAutounattend(recipe, { adminPassword: options.adminPassword, resolveSecret: options.secrets });
      return new Map([
        [AUTOUNATTEND_FILE, xml],
        [GUEST_TOOLS_SCRIPT, guestToolsScript(recipe.hypervisorTools?.kind ?? DEFAULT_TOOLS_KIND, installReport(options.buildId))],
      ]);
    }
  }
}

export interface WriteAnswerMediaOptions extends AnswerFilesOptions {
  readonly outPath: string;
  readonly exec: Exec;
  readonly tempDir?: string;
  readonly signal?: AbortSignal;
}

/** The recipe's answer files on an ISO at `outPath`, labelled for its installer. */
export function writeAnswerMedia(recipe: Recipe, options: WriteAnswerMediaOptions): Promise<AnswerMedia> {
  const files = answerFilesFor(recipe, options);
  return createAnswerMedia(files, {
    volumeLabel: volumeLabelFor(recipe),
    outPath: options.outPath,
    exec: options.exec,
    ...(options.tempDir !== undefined ? { tempDir: options.tempDir } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
}
