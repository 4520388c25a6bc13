/** The stacks of a project: every `stacks/Pulumi.<stack>.yaml`. */
import { readdir } from "node:fs/promises";
import { join } from "node:path";

const STACK_FILE = /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/;

/** Stack names, in promotion order when they are the usual dev/test/prod, else sorted. */
export async function listStacks(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(root, "stacks"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const stacks = names.flatMap((name) => STACK_FILE.exec(name)?.[1] ?? []);
  return stacks.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const ORDER = ["dev", "test", "prod"];

function rank(stack: string): number {
  const index = ORDER.indexOf(stack);
  return index < 0 ? ORDER.length : index;
}
