import { perRecipe } from "./report.ts";

/** A PVS image carries the target-device software: it holds the NIC filter driver that streams the vDisk. */
export const pvsNeedsTargetDevice = perRecipe(
  { id: "pvs-needs-target-device", severity: "error", description: "a PVS image has the target-device software with a version" },
  function* (doc) {
    const target = doc.value.target;
    if (target.kind !== "pvs") return;
    const why = "PVS needs the target-device software: its NIC filter driver streams the vDisk to every target device";
    const device = target.targetDevice;
    if (device === undefined) {
      yield { pointer: "/target", message: why, got: "no targetDevice", hint: "add target.targetDevice with version and installer (PVS_Device_x64.exe)" };
      return;
    }
    if (device.version.trim() === "") {
      yield { pointer: "/target/targetDevice/version", message: `${why}; its version is empty`, got: device.version, hint: "set the target-device software version, e.g. 2402.0.0" };
    }
    if (device.install !== undefined && device.install.trim() === "") {
      yield { pointer: "/target/targetDevice/install", message: `${why}; its install command is empty`, got: device.install, hint: "remove install to use the default silent install, or give the command" };
    }
  },
);
