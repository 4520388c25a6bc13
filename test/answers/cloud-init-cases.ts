/** The recipes the cloud-init tests and their snapshots render, with what each must come out as. */
import type { Recipe } from "../../src/recipe/model.ts";
import { linuxRecipe } from "./recipes.ts";

/** The build id every case renders with: its instance-id is rebake-<this>. */
export const BUILD_ID = "20240501-7";

export interface Case {
  readonly name: string;
  readonly recipe: Recipe;
  readonly hostname: string;
  readonly timezone: string;
  readonly packages: readonly string[];
}

export const CASES: readonly Case[] = [
  { name: "defaults", recipe: linuxRecipe(), hostname: "linux-demo", timezone: "UTC", packages: ["qemu-guest-agent"] },
  {
    name: "long-name-windows-zone-de-locale",
    recipe: linuxRecipe({
      metadata: { name: "citrix-linux-vda-ubuntu-2204", version: "1.2.3" },
      os: { locale: "de-DE", timezone: "W. Europe Standard Time" },
    }),
    hostname: "citrix-linux-vd",
    timezone: "Europe/Berlin",
    packages: ["qemu-guest-agent"],
  },
  {
    name: "vmware-tools-explicit-hostname",
    recipe: linuxRecipe({
      os: { hostname: "LNXGOLD01", timezone: "America/New_York", locale: "en-GB" },
      hypervisorTools: { kind: "vmware-tools", version: "12.4.0" },
    }),
    hostname: "LNXGOLD01",
    timezone: "America/New_York",
    packages: ["open-vm-tools"],
  },
  {
    name: "xenserver-tools",
    recipe: linuxRecipe({ hypervisorTools: { kind: "xenserver-vm-tools", version: "8.4.0" } }),
    hostname: "linux-demo",
    timezone: "UTC",
    packages: [],
  },
];
