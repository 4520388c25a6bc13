/** A project `rebake sync` can run on: a built vDisk with its manifest and a stack whose PVS stores are local directories. */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { content, pvsStackYaml, type Workspace } from "../distribute/fixtures.ts";

/** A project with a built version 1.0.0 (a vhdx and its manifest) and a stack with the given site locations. */
export async function syncProject(ws: Workspace, locations: readonly string[]): Promise<string> {
  const root = await ws.dir("project");
  const out = await ws.dir("project/out/ws2022-pvs/1.0.0");
  const data = content(20, (b) => b, 5);
  await writeFile(join(out, "ws2022-pvs.vhdx"), data);
  await writeFile(join(out, "manifest.json"), JSON.stringify({
    manifestVersion: 1,
    buildId: "b1",
    target: "pvs",
    recipe: { name: "ws2022-pvs", version: "1.0.0", file: "recipes/none.yaml", hash: "a".repeat(64) },
    outputs: [{ kind: "vhdx", path: "ws2022-pvs.vhdx", size: data.length, sha256: createHash("sha256").update(data).digest("hex") }],
  }));
  await mkdir(join(root, "stacks"), { recursive: true });
  await writeFile(join(root, "stacks", "Pulumi.t.yaml"), pvsStackYaml("1.0.0", locations));
  return root;
}
