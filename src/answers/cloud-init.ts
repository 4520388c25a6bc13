/**
 * cloud-init NoCloud answer files (`meta-data`, `user-data`) for Linux recipes.
 *
 * Only standard cloud-config keys are written. rebake's test OS installer does not run cloud-init:
 * it reads `hostname`, `timezone` and `power_state.mode` with plain text tools, so those stay
 * top-level simple scalars, one per line (`hostname: x`, `timezone: UTC`, `  mode: poweroff`).
 */
import { stringify } from "yaml";
import type { Recipe, ToolsKind } from "../recipe/model.ts";
import { DEFAULT_TOOLS_KIND } from "./defaults.ts";
import { buildHostname } from "./hostname.ts";
import { installerLocale } from "./locale.ts";
import { ianaTimeZone } from "./timezone.ts";
import { instanceId, installReport } from "./install-report.ts";

export { BuildIdError, instanceId } from "./install-report.ts";

export interface CloudInitFiles {
  readonly metaData: string;
  readonly userData: string;
}

export interface CloudInitOptions {
  /** The build's id; the instance-id is derived from it so every build is a fresh instance. */
  readonly buildId: string;
}

/** The first line cloud-init requires to treat user-data as cloud-config. */
export const CLOUD_CONFIG_HEADER = "#cloud-config";

/** Distribution package and service that give the runner its guest channel, per tools kind. */
const GUEST_AGENT: Readonly<Record<ToolsKind, { readonly package: string; readonly service: string } | undefined>> = {
  "qemu-guest-agent": { package: "qemu-guest-agent", service: "qemu-guest-agent" },
  "vmware-tools": { package: "open-vm-tools", service: "open-vm-tools" },
  // XenServer's Linux tools are not packaged by distributions; the tools step installs them.
  "xenserver-vm-tools": undefined,
};

export function renderCloudInit(recipe: Recipe, options: CloudInitOptions): CloudInitFiles {
  const hostname = buildHostname(recipe);
  const metaData = stringify({ "instance-id": instanceId(options.buildId), "local-hostname": hostname });

  const agent = GUEST_AGENT[recipe.hypervisorTools?.kind ?? DEFAULT_TOOLS_KIND];
  // Key order matters to readers of the file (and to the test OS's line-based reader): identity
  // first, then what to install, then the power-off that tells the runner the install is done.
  const config = {
    hostname,
    timezone: ianaTimeZone(recipe),
    locale: installerLocale(recipe).posix,
    ...(agent
      ? {
          packages: [agent.package],
          // A string entry runs through sh. Some distributions ship the agent's unit as static
          // (started by udev), where enable refuses, so start it directly then.
          runcmd: [`systemctl enable --now ${agent.service} || systemctl start ${agent.service}`],
        }
      : {}),
    // Printed on the console as cloud-init's last act: the runner's proof that the install finished.
    final_message: installReport(options.buildId).success,
    power_state: { mode: "poweroff" },
  };
  const userData = `${CLOUD_CONFIG_HEADER}\n${stringify(config, { lineWidth: 0 })}`;
  return { metaData, userData };
}
