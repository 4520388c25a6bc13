/** Valid recipe and app objects for rule tests; each test changes only what it is about. */
import type { App, Recipe } from "../../../src/recipe/model.ts";

/** A stand-in digest: rules only check that one is present. */
export const DIGEST = "0".repeat(64);

type Mutable<T> = T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;
export type Draft = Mutable<Recipe> & Record<string, unknown>;
export type DraftStep = NonNullable<Draft["steps"]>[number];

/** A Windows Server 2022 PVS image with a VDA that breaks no rule. */
export function pvsRecipe(): Draft {
  return {
    metadata: { name: "test-image", version: "1.0.0" },
    os: { family: "windows", iso: { url: "https://isos.example.com/win2022.iso", sha256: DIGEST }, edition: "Windows Server 2022 Datacenter" },
    hardware: { firmware: "uefi", cpus: 4 },
    apps: [],
    vda: { version: "2402.0.100.629", role: "server", installer: { url: "https://files.example.com/VDAServerSetup_2402.exe", sha256: DIGEST } },
    target: {
      kind: "pvs",
      vdiskName: "win2022",
      targetDevice: { version: "2402.0.0", installer: { url: "https://files.example.com/PVS_Device_x64.exe", sha256: DIGEST } },
    },
  } as Draft;
}

/** The same image for MCS. */
export function mcsRecipe(): Draft {
  return { ...pvsRecipe(), target: { kind: "mcs" } } as Draft;
}

/** A Windows app with a pinned download. */
export function app(name: string, version: string, extra: Partial<App> = {}): App {
  return {
    name,
    version,
    source: { url: `https://files.example.com/${name}-${version}.msi`, sha256: DIGEST },
    install: { windows: { command: 'msiexec /i "{file}" /qn', shell: "cmd" } },
    ...extra,
  };
}
