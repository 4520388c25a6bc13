/**
 * vcsim (govmomi's vCenter simulator) for integration tests: built by scripts/build-govmomi.sh
 * (cached), started on 127.0.0.1 with a kernel-chosen port, stopped by the caller in finally.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { stopChild } from "./stop-child.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
/** Building from source takes about a minute on two cores; a cached run returns at once. */
const BUILD_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 20_000;

export const VCSIM_USERNAME = "rebake-test";
export const VCSIM_PASSWORD = "rebake-secret";
/** vcsim's default inventory, started without VMs (-vm 0) so a leftover VM is easy to see. */
export const VCSIM_INVENTORY = {
  datacenter: "DC0",
  datastore: "LocalDS_0",
  network: "VM Network",
  resourcePool: "/DC0/host/DC0_C0/Resources",
} as const;

export interface Vcsim {
  /** The SDK URL without credentials. */
  readonly url: string;
  readonly binDir: string;
  readonly govc: string;
  /** GOVC_* for a govc run by the test itself. */
  readonly env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Builds govc and vcsim if needed and returns their directory. */
export async function buildGovmomi(): Promise<string> {
  const { stdout } = await promisify(execFile)("bash", [path.join(REPO, "scripts/build-govmomi.sh")], { timeout: BUILD_TIMEOUT_MS });
  return stdout.trim().split("\n").at(-1)!;
}

export async function startVcsim(): Promise<Vcsim> {
  const binDir = await buildGovmomi();
  const child = spawn(path.join(binDir, "vcsim"), ["-l", "127.0.0.1:0", "-username", VCSIM_USERNAME, "-password", VCSIM_PASSWORD, "-vm", "0", "-E", "-"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const sdk = await announcedUrl(child);
    const url = sdk.replace(/\/\/[^@/]*@/, "//");
    const env = {
      GOVC_URL: url,
      GOVC_USERNAME: VCSIM_USERNAME,
      GOVC_PASSWORD: VCSIM_PASSWORD,
      GOVC_INSECURE: "1",
      GOVC_PERSIST_SESSION: "false",
      GOVC_DATACENTER: VCSIM_INVENTORY.datacenter,
    };
    return { url, binDir, govc: path.join(binDir, "govc"), env, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** vcsim -E - prints `export GOVC_URL=https://user:pass@127.0.0.1:PORT/sdk ...` once it listens. */
function announcedUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`vcsim did not announce its URL within ${START_TIMEOUT_MS} ms: ${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GOVC_URL=(\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`vcsim exited with code ${code} before listening: ${output}`));
    });
  });
}
