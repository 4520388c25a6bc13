/**
 * The device resources of a stack: each PVS site may name a device manifest (`devices:` in the
 * site); its rows become PvsDevice resources booting the vDisk the GoldenImage published to that
 * site. Manifests are validated first; any problem stops the program with every problem listed.
 */
import { isAbsolute, join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { formatProblem } from "../recipe/format-problems.ts";
import type { Problem } from "../recipe/problem.ts";
import type { StackConfig } from "../stacks/model.ts";
import { declareDevices, type PvsDevice } from "./device-provider.ts";
import { knownNames, loadDevices } from "./load-devices.ts";

export class DeviceManifestError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(`the device manifests have ${problems.length} problem${problems.length === 1 ? "" : "s"}; run rebake devices validate:\n${problems.map(formatProblem).join("\n")}`);
    this.name = new.target.name;
  }
}

/**
 * @param published site -> vDisk name, as GoldenImage.published holds it for a PVS stack
 */
export async function declareStackDevices(root: string, stack: StackConfig, published: Readonly<Record<string, pulumi.Input<string>>>, opts?: pulumi.CustomResourceOptions): Promise<PvsDevice[]> {
  const pvs = stack.pvs;
  const files = pvs?.sites.flatMap((site) => (site.devices ? [site.devices] : [])) ?? [];
  if (!pvs || files.length === 0) return [];
  const { devices, problems } = await loadDevices(files.map((file) => ({ path: isAbsolute(file) ? file : join(root, file), shownAs: file })), await knownNames(root, stack));
  if (problems.length) throw new DeviceManifestError(problems);
  return declareDevices(devices, { pvs, vdisks: { [stack.image.recipe]: published } }, opts);
}
