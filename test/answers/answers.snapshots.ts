/** The answer-media snapshots: the first-logon guest tools scripts and the cloud-init NoCloud files. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderCloudInit } from "../../src/answers/cloud-init.ts";
import { guestToolsScript } from "../../src/answers/guest-tools-script.ts";
import { installReport } from "../../src/answers/install-report.ts";
import type { ToolsKind } from "../../src/recipe/model.ts";
import type { Snapshot } from "../support/snapshot.ts";
import { BUILD_ID, CASES, type Case } from "./cloud-init-cases.ts";

export const FIXTURES = fileURLToPath(new URL("../fixtures/answers/", import.meta.url));

export const guestToolsSnapshot = (kind: ToolsKind): Snapshot => ({ file: join(FIXTURES, "guest-tools", `${kind}.ps1`), produce: () => guestToolsScript(kind, installReport("b-1")) });

export function cloudInitSnapshots(c: Case): { readonly userData: Snapshot; readonly metaData: Snapshot } {
  const files = () => renderCloudInit(c.recipe, { buildId: BUILD_ID });
  return {
    userData: { file: join(FIXTURES, "cloud-init", c.name, "user-data"), produce: () => files().userData },
    metaData: { file: join(FIXTURES, "cloud-init", c.name, "meta-data"), produce: () => files().metaData },
  };
}

const TOOLS: readonly ToolsKind[] = ["qemu-guest-agent", "vmware-tools", "xenserver-vm-tools"];

export const SNAPSHOTS: readonly Snapshot[] = [
  ...TOOLS.map(guestToolsSnapshot),
  ...CASES.flatMap((c) => Object.values(cloudInitSnapshots(c))),
];
