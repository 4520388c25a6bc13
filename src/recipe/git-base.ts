/**
 * The recipe as it was at a git ref, for `rebake diff <recipe> --base <ref>`: the recipe file and
 * its project's apps/ are read with `git show <ref>:<path>` into a temporary directory with the
 * same layout, so the old side is loaded, validated and planned exactly like the new one.
 * Local input files are hashed from the ref too (falling back to the working tree for files git
 * does not track, such as installers kept out of the repository).
 */
import { mkdir, mkdtemp, rm, writeFile, rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Exec } from "../util/exec.ts";
import { hashFileSha256, type HashFile } from "./hash.ts";
import { APPS_DIR, findProjectRoot } from "./project.ts";

/** The recipe file does not exist at the ref: a new recipe, with nothing to compare against. */
export class RecipeNotInBaseError extends Error {
  constructor(readonly ref: string, readonly path: string) {
    super(`${path} does not exist at ${ref}: it is a new recipe, so there is no base to diff against`);
    this.name = "RecipeNotInBaseError";
  }
}

/** The git command itself failed: not a repository, an unknown ref. */
export class GitBaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GitBaseError";
  }
}

export interface BaseCheckout {
  /** The old recipe inside `root`. */
  readonly recipePath: string;
  /** The temporary directory; `cleanup` removes it. */
  readonly root: string;
  /** How the old recipe is named in output: `<ref>:<path>`. */
  readonly displayName: string;
  /** sha256 of a local input as it was at the ref. */
  readonly hashFile: HashFile;
  cleanup(): Promise<void>;
}

export interface GitBaseOptions {
  readonly exec: Exec;
  /** @default os.tmpdir() */
  readonly tmpDir?: string;
  /** @default streaming sha256 of the working-tree file */
  readonly hashWorkingFile?: HashFile;
}

const YAML_FILE = /\.ya?ml$/i;

export async function checkoutBase(recipePath: string, ref: string, options: GitBaseOptions): Promise<BaseCheckout> {
  const { exec } = options;
  const absolute = resolve(recipePath);
  // Pathspecs are relative to the working directory: run from the top once it is known.
  let cwd = dirname(absolute);
  const git = async (args: readonly string[], nothrow = false) => {
    const result = await exec("git", args, { cwd, nothrow: true });
    if (result.exitCode !== 0 && !nothrow) {
      throw new GitBaseError(`git ${args.join(" ")} failed: ${result.stderr.trim() || `exit code ${result.exitCode}`}; check that ${ref} is a ref of this repository (fetch it first in CI)`);
    }
    return result;
  };
  const top = (await git(["rev-parse", "--show-toplevel"])).stdout.trim();
  cwd = top;
  await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  const inRepo = (path: string) => relative(top, path).split(sep).join("/");
  const recipeRel = inRepo(absolute);
  const appsRel = inRepo(join(await findProjectRoot(absolute), APPS_DIR));

  const recipeAtRef = await git(["show", `${ref}:${recipeRel}`], true);
  if (recipeAtRef.exitCode !== 0) throw new RecipeNotInBaseError(ref, recipeRel);

  const root = await mkdtemp(join(options.tmpDir ?? tmpdir(), "rebake-base-"));
  const cleanup = () => rm(root, { recursive: true, force: true });
  try {
    await place(root, recipeRel, recipeAtRef.stdout);
    const listed = await git(["ls-tree", "-r", "-z", "--name-only", ref, "--", appsRel]);
    const appFiles = listed.stdout.split("\0").filter((path) => YAML_FILE.test(path));
    for (const path of appFiles) await place(root, path, (await git(["show", `${ref}:${path}`])).stdout);
  } catch (error) {
    await cleanup();
    throw error;
  }
  const hashWorkingFile = options.hashWorkingFile ?? hashFileSha256;
  const hashFile: HashFile = async (path) => {
    const rel = relative(root, path);
    if (rel.startsWith("..") || isAbsolute(rel)) return hashWorkingFile(path);
    const spec = `${ref}:${rel.split(sep).join("/")}`;
    if ((await git(["cat-file", "-e", spec], true)).exitCode !== 0) return hashWorkingFile(join(top, rel));
    // Piped through sha256sum: exec returns text, which would mangle binary installers.
    const summed = await exec("sh", ["-c", 'git show "$1" | sha256sum', "sh", spec], { cwd: top });
    return summed.stdout.split(/\s/)[0] ?? "";
  };
  return { recipePath: join(root, recipeRel), root, displayName: `${ref}:${recipeRel}`, hashFile, cleanup };
}

/** Writes a file under root, through a temporary name, creating its directories. */
async function place(root: string, relPath: string, content: string): Promise<void> {
  const target = join(root, relPath);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(`${target}.tmp`, content);
  await rename(`${target}.tmp`, target);
}
