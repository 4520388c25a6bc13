/** The boot snapshot: the Set-PvsServerBootstrap script of a two-server BDM site. */
import { fileURLToPath } from "node:url";
import { planSiteBoot, type BootstrapPlan } from "../../src/boot/boot-plan.ts";
import { bootstrapScript } from "../../src/boot/bootstrap-script.ts";
import type { PvsSite, SiteBootConfig } from "../../src/stacks/model.ts";
import type { Snapshot } from "../support/snapshot.ts";

export const site = (boot: SiteBootConfig): PvsSite => ({ name: "HQ", server: "pvs01", collection: "WS2022-Apps", store: { name: "Store-HQ", location: "/mnt/hq" }, boot });
export const TWO = [{ host: "pvs01.corp.example", ip: "10.0.10.11" }, { host: "pvs02.corp.example", ip: "10.0.10.12", port: 6911 }];
const BDM: SiteBootConfig = { method: "bdm", servers: TWO };

export const BOOTSTRAP_BDM: Snapshot = {
  file: fileURLToPath(new URL("./snapshots/bootstrap-bdm.ps1", import.meta.url)),
  produce: () => bootstrapScript(planSiteBoot(site(BDM), BDM) as BootstrapPlan, { server: "pvs01.corp.example", port: 54321 }),
};

export const SNAPSHOTS: readonly Snapshot[] = [BOOTSTRAP_BDM];
