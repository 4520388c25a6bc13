/**
 * Every local file a recipe or app names (path inputs and script files), and where it really is:
 * inputs stay inside the project unless the file says otherwise with a reason, and must be
 * regular files. Links are followed, so a link inside the project to /etc/shadow is outside.
 * The project is the repository the file is reviewed in (the nearest directory with .git), else
 * the directory holding apps/.
 */
import { accessSync, constants, existsSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { RuleContext, SourceDocument } from "../document.ts";
import type { App, OutsideProject, Recipe } from "../model.ts";
import { appInputs, recipeInputs } from "./inputs.ts";
import { recipeScripts } from "./scripts.ts";

export interface FileReference {
  /** JSON pointer of the path string. */
  readonly pointer: string;
  /** JSON pointer of the object that may carry `outsideProject`. */
  readonly owner: string;
  readonly label: string;
  /** As written. */
  readonly path: string;
  readonly outsideProject?: OutsideProject;
}

export function fileReferences(doc: SourceDocument<Recipe> | SourceDocument<App>): FileReference[] {
  const inputs = doc.kind === "recipe" ? recipeInputs(doc.value as Recipe) : appInputs(doc.value as App);
  const refs: FileReference[] = inputs.flatMap(({ pointer, label, source }) =>
    source.path === undefined ? [] : [{ pointer: `${pointer}/path`, owner: pointer, label, path: source.path, ...(source.outsideProject ? { outsideProject: source.outsideProject } : {}) }],
  );
  if (doc.kind === "recipe") {
    for (const { pointer, label, script } of recipeScripts(doc.value as Recipe)) {
      if (script.file !== undefined) refs.push({ pointer: `${pointer}/file`, owner: pointer, label, path: script.file, ...(script.outsideProject ? { outsideProject: script.outsideProject } : {}) });
    }
  }
  return refs;
}

export type FileKind = "missing" | "file" | "directory" | "special" | "unreadable";

export interface ResolvedReference {
  readonly absolute: string;
  /** Inside the project root once links are followed. */
  readonly inside: boolean;
  readonly kind: FileKind;
}

/** Where a reference leads, from the YAML file that names it. */
export function resolveReference(context: RuleContext, doc: SourceDocument<unknown>, path: string): ResolvedReference {
  const absolute = resolve(dirname(doc.path), path);
  const root = repositoryOf(dirname(doc.path)) ?? context.root ?? dirname(doc.path);
  const kind = kindOf(absolute);
  const real = kind === "missing" ? absolute : safeRealpath(absolute);
  return { absolute, inside: isWithin(safeRealpath(root), real) && isWithin(root, absolute), kind };
}

const repositories = new Map<string, string | undefined>();

/** The nearest directory at or above `dir` holding .git (a directory, or a file in a worktree). */
function repositoryOf(dir: string): string | undefined {
  if (repositories.has(dir)) return repositories.get(dir);
  const parent = dirname(dir);
  const found = existsSync(join(dir, ".git")) ? dir : parent === dir ? undefined : repositoryOf(parent);
  repositories.set(dir, found);
  return found;
}

function kindOf(path: string): FileKind {
  try {
    const stats = statSync(path);
    if (stats.isFile()) {
      accessSync(path, constants.R_OK);
      return "file";
    }
    return stats.isDirectory() ? "directory" : "special";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? "missing" : "unreadable";
  }
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
