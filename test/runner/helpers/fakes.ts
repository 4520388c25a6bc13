/**
 * The recording fake driver (src/hypervisors/fake-driver.ts) and a recording guest channel for
 * runner unit tests, both writing one shared journal so tests can assert order across them.
 */
import type { GuestExecOptions } from "../../../src/guest/channel.ts";
import { FakeGuestChannel, type ExecAnswer, type FakeChannelEvent } from "../../../src/guest/fake-channel.ts";
import type { HypervisorDriver, Media, VmSpec } from "../../../src/hypervisors/driver.ts";
import { FakeHypervisorDriver, type FakeDriverCall } from "../../../src/hypervisors/fake-driver.ts";
import { plainObject } from "../../support/plain-object.ts";


export interface FakeOptions {
  /** Answers a guest command by its script. */
  readonly exec?: (script: string, options: GuestExecOptions) => ExecAnswer | undefined;
  /** The guest never answers (waitReady hangs until aborted). */
  readonly agentNeverAnswers?: boolean;
  /** The installer never powers off. */
  readonly installHangs?: boolean;
  /** Checkpoint fails with this error. */
  readonly checkpointError?: (nextLayerPath: string) => Error | undefined;
  /** Replaces the sha256 the guest reports for an upload. */
  readonly uploadSha256?: (localPath: string) => string | undefined;
  /** Checkpoints are snapshots of the VM (vSphere, XO) rather than files that outlive it. */
  readonly layersDieWithVm?: boolean;
  /** Called inside exec, e.g. to abort the build mid-step. */
  readonly onExec?: (script: string) => void;
}

export interface Fakes {
  readonly driver: HypervisorDriver;
  readonly journal: string[];
  readonly specs: VmSpec[];
  readonly media: (readonly Media[])[];
  readonly destroyed: string[];
}

export function createFakes(options: FakeOptions = {}): Fakes {
  const journal: string[] = [];
  const specs: VmSpec[] = [];
  const media: (readonly Media[])[] = [];
  const destroyed: string[] = [];
  const waitAbort = (signal?: AbortSignal) =>
    new Promise<never>((_, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  const channel = plainObject(new FakeGuestChannel({
    answer: (script, execOptions) => {
      options.onExec?.(script);
      return options.exec?.(script, execOptions);
    },
    ...(options.agentNeverAnswers ? { readyHangs: true } : {}),
    ...(options.uploadSha256 ? { uploadSha256: options.uploadSha256 } : {}),
    onEvent: (event) => journal.push(channelLine(event)),
  }));

  const fake = new FakeHypervisorDriver({
    idPrefix: "vm-",
    layersOutliveVm: !options.layersDieWithVm,
    guest: () => channel,
    // The installer runs until the first power off before the guest agent ever answered.
    powerOffBehaviour: async (_vm, signal) => {
      if (options.installHangs && !journal.includes("guest.waitReady")) await waitAbort(signal);
    },
    fail: (call) => (call.method === "checkpoint" ? options.checkpointError?.(call.args[0] as string) : undefined),
    onCall: (call) => {
      const line = journalLine(call);
      if (line !== undefined) journal.push(line);
      if (call.method === "createVm") specs.push(call.args[0] as VmSpec);
      if (call.method === "attachMedia") media.push(call.args[0] as readonly Media[]);
      if (call.method === "destroy") destroyed.push(call.vm!);
    },
  });
  const driver = plainObject<HypervisorDriver>(fake);
  return { driver, journal, specs, media, destroyed };
}

/** The journal's line for a driver call; queries (guest, access) are not journaled. */
function journalLine(call: FakeDriverCall): string | undefined {
  const [first] = call.args;
  switch (call.method) {
    case "createVm": {
      const spec = first as VmSpec;
      return `createVm ${spec.disk.path}${spec.disk.baseLayer ? ` base=${spec.disk.baseLayer}` : ""}`;
    }
    case "attachMedia":
      return `attachMedia ${(first as readonly Media[]).map((m) => m.role).join(",")}`;
    case "checkpoint":
    case "snapshot":
    case "exportLayer":
      return `${call.method} ${String(first)}`;
    case "exportDisk":
    case "destroy":
    case "release":
      return `${call.method} ${call.vm}`;
    case "powerOn":
    case "waitPoweredOff":
    case "powerOff":
      return call.method;
    default:
      return undefined;
  }
}

/** The journal's line for a guest channel event. */
function channelLine(event: FakeChannelEvent): string {
  switch (event.kind) {
    case "exec":
      return `guest.exec ${event.script.split("\n").at(-1)}`;
    case "upload":
      return `guest.upload ${event.guestPath}`;
    default:
      return `guest.${event.kind}`;
  }
}
