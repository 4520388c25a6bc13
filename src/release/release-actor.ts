/**
 * Who runs a release command and from which commit, for the audit log: the CI actor
 * (GITHUB_ACTOR) or the git identity, and git's HEAD (marked +dirty when the work tree has
 * uncommitted changes). Read through the exec layer, so tests run against a real temporary repo.
 */
import type { Exec } from "../util/exec.ts";

export interface ReleaseActor {
  readonly who: string;
  readonly commit: string;
  readonly now: () => Date;
}

export class ReleaseActorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export async function resolveActor(root: string, exec: Exec, env: NodeJS.ProcessEnv, now: () => Date = () => new Date()): Promise<ReleaseActor> {
  const git = async (...args: string[]) => (await exec("git", ["-C", root, ...args], { env: { PATH: env.PATH ?? "", HOME: env.HOME ?? "" } })).stdout.trim();
  let head: string;
  try {
    head = await git("rev-parse", "HEAD");
  } catch {
    throw new ReleaseActorError(`${root} is not a git repository with a commit: the audit log records the commit every release change was made from; run rebake in the repository`);
  }
  const dirty = (await git("status", "--porcelain", "--untracked-files=no")) !== "";
  const name = env.GITHUB_ACTOR ?? (await git("config", "user.name").catch(() => ""));
  const email = env.GITHUB_ACTOR ? "" : await git("config", "user.email").catch(() => "");
  const who = [name, email && `<${email}>`].filter(Boolean).join(" ");
  if (!who) throw new ReleaseActorError("no identity for the audit log: set git config user.name and user.email (CI sets GITHUB_ACTOR)");
  return { who, commit: `${head}${dirty ? "+dirty" : ""}`, now };
}
