/**
 * `rebake build --stack <name>` against a real vcsim: the CLI picks the vSphere driver and its
 * connection from the stack file, uploads both ISOs to the datastore, creates the golden VM, and
 * removes it again when the build fails (timeout), is interrupted (SIGINT) or lacks a credential.
 * vcsim has no guest operations, reports no guest IP and its VMs never run an installer, so a
 * build from the ISO cannot get past the OS install here. The MCS snapshot and its XDHyp path
 * are covered by the vSphere driver's own vcsim test; guest steps over VMware Tools or WinRM by
 * the contract tests.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildEvent } from "../../src/runner/events.ts";
import { createExec } from "../../src/util/exec.ts";
import { planProject } from "../../src/recipe/plan-project.ts";
import { LayerCache } from "../../src/cache/layer-cache.ts";
import { LAYER_REFERENCE_KIND } from "../../src/hypervisors/vsphere/vsphere-driver.ts";
import { encodeSnapshotLayer } from "../../src/hypervisors/snapshot-layer.ts";
import { runCliJson, type CliRun } from "../support/cli-child.ts";
import { startVcsim, VCSIM_INVENTORY, VCSIM_PASSWORD, VCSIM_USERNAME, type Vcsim } from "../support/vcsim.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const STACK = "vcsim";
const PASSWORD_ENV = "TEST_VCENTER_PASSWORD";
/** Long enough to create the VM and upload both ISOs, short enough for the suite. */
const BUILD_TIMEOUT = "12s";
/** The CLI is killed if it outlives its own --timeout by this much. */
const RUN_BOUND_MS = 60_000;
const INTERRUPT_AFTER_MS = 1_500;
const exec = createExec();

let vcsim: Vcsim;
let dir: string;

before(async () => {
  vcsim = await startVcsim();
  dir = await mkdtemp(path.join(tmpdir(), "rebake-vsphere-stack-"));
  await writeFile(path.join(dir, "os.iso"), Buffer.alloc(1 << 20, 1));
  const vda = Buffer.from("a stand-in VDA installer");
  await writeFile(path.join(dir, "vda.tar.gz"), vda);
  await writeFile(path.join(dir, "vcsim-mcs.yaml"), [
    "metadata: { name: vcsim-mcs, version: 1.0.0, description: the smallest MCS recipe, owners: [rebake-tests] }",
    "os: { family: linux, iso: { path: os.iso }, locale: en-US, timezone: Europe/Paris, hostname: vcsim-mcs }",
    "hardware: { cpus: 1, memoryMiB: 512, diskGiB: 2, firmware: bios }",
    'hypervisorTools: { kind: vmware-tools, version: "12.3" }',
    `vda: { version: 2402.0.0, role: server, installer: { path: vda.tar.gz, sha256: ${createHash("sha256").update(vda).digest("hex")} } }`,
    "target: { kind: mcs }",
    "seal: { generalize: false }",
    "",
  ].join("\n"));
  await mkdir(path.join(dir, "stacks"));
  await writeFile(path.join(dir, `stacks/Pulumi.${STACK}.yaml`), [
    "config:",
    "  rebake:target: mcs",
    "  rebake:image: { recipe: vcsim-mcs, version: 1.0.0 }",
    "  rebake:hypervisor:",
    "    kind: vsphere",
    "    server: 127.0.0.1",
    `    url: ${vcsim.url}`,
    `    datacenter: ${VCSIM_INVENTORY.datacenter}`,
    `    username: ${VCSIM_USERNAME}`,
    `    password: env:${PASSWORD_ENV}`,
    "    insecure: true",
    `    datastore: ${VCSIM_INVENTORY.datastore}`,
    `    network: ${VCSIM_INVENTORY.network}`,
    `    resourcePool: ${VCSIM_INVENTORY.resourcePool}`,
    "    hostingUnit: HU-Lab",
    "    guest: { kind: vmware-tools, os: linux, user: root, password: env:TEST_GUEST_PASSWORD }",
    "  rebake:mcs:",
    "    goldenVm: { name: vcsim-mcs, uuid: 4212a1f2-6b9c-3e8d-1f0a-2b3c4d5e6f70 }",
    "    cvad: { url: https://api.cloud.com, customerId: corp, siteId: 0b4e9c9a-5d35-4b0a-8f15-9d0c4e7c1a11, token: env:CVAD_TOKEN }",
    "    catalogs: [{ name: Lab, id: 3f1b5a2e-8c7d-4e1f-9a6b-2d4c8e0f1a3b, hostingUnit: HU-Lab }]",
    "",
  ].join("\n"));
});

after(async () => {
  await vcsim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI as users do; `onEvent` may return true to send SIGINT. */
function rebakeBuild(env: NodeJS.ProcessEnv, { cache = false, onEvent = () => false }: { cache?: boolean; onEvent?: (event: BuildEvent) => boolean } = {}): Promise<CliRun> {
  return runCliJson(["build", "vcsim-mcs.yaml", "--stack", STACK, "--out", "out", ...(cache ? [] : ["--no-cache"]), "--timeout", BUILD_TIMEOUT, "--json"], {
    cwd: dir,
    env: { PATH: `${vcsim.binDir}:${process.env.PATH}`, HOME: dir, TMPDIR: dir, REBAKE_CACHE_DIR: path.join(dir, "cache"), ...env },
    boundMs: RUN_BOUND_MS,
    onEvent: (event, child) => {
      if (onEvent(event)) setTimeout(() => child.kill("SIGINT"), INTERRUPT_AFTER_MS);
    },
  });
}

async function vmNames(): Promise<string[]> {
  const { stdout } = await exec(vcsim.govc, ["ls", `/${VCSIM_INVENTORY.datacenter}/vm`], { env: vcsim.env });
  return stdout.split("\n").filter(Boolean).map((p) => path.posix.basename(p));
}

function logs(run: CliRun): string {
  return run.events.flatMap((e) => (e.type === "log" ? [e.message] : [])).join("\n");
}

const CREDENTIALS = { [PASSWORD_ENV]: VCSIM_PASSWORD, TEST_GUEST_PASSWORD: "guest-secret" };

describe("rebake build --stack on vSphere (vcsim)", { timeout: 60_000 }, () => {
  test("a missing credential fails before any VM is created, naming the variable to set", async () => {
    const run = await rebakeBuild({ TEST_GUEST_PASSWORD: "guest-secret" });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /hypervisor\.password \(vSphere password\) from stacks\/Pulumi\.vcsim\.yaml: .*export the environment variable TEST_VCENTER_PASSWORD/);
    assert.deepEqual(await vmNames(), []);
  });

  test("the stack selects vSphere: ISOs uploaded, VM created, then destroyed when the build times out", async () => {
    const run = await rebakeBuild(CREDENTIALS);
    const log = logs(run);
    assert.equal(run.code, 1, run.stderr);
    assert.match(log, /vsphere: rebake-vcsim-mcs-\S+: created \/DC0\/vm\/rebake-vcsim-mcs-/);
    assert.match(log, /install ISO \[LocalDS_0\] rebake-iso\/os\.iso uploaded/);
    assert.match(log, /answers ISO \[LocalDS_0\] rebake-iso\/answers\.iso uploaded/);
    assert.match(log, /vsphere: rebake-vcsim-mcs-\S+: destroyed/);
    assert.match(run.stderr, /01-os-install/);
    assert.doesNotMatch(`${run.stderr}\n${JSON.stringify(run.events)}`, new RegExp(`${VCSIM_PASSWORD}|guest-secret`));
    assert.deepEqual(await vmNames(), [], "no VM left in vcsim");
    const { stdout } = await exec(vcsim.govc, ["datastore.ls", "-ds", VCSIM_INVENTORY.datastore, "rebake-iso"], { env: vcsim.env });
    assert.match(stdout, /os\.iso\.sha256/, "the ISO stays with its checksum, so the next build skips the upload");
  });

  test("SIGINT during the OS install exits 130 and leaves no VM and no work dir", async () => {
    const run = await rebakeBuild(CREDENTIALS, { onEvent: (event) => event.type === "step-start" && event.step.includes("os-install") });
    assert.equal(run.code, 130, run.stderr);
    assert.match(logs(run), /install ISO \[LocalDS_0\] rebake-iso\/os\.iso already there, same sha256/);
    assert.deepEqual(await vmNames(), [], "no VM left in vcsim");
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith("rebake-")), [], "no work dir or runtime dir");
  });

  test("layers of an earlier vSphere build are not reused: they were snapshots of a VM that is gone", async () => {
    // What a cache would hold had an earlier build committed vSphere layers: references to a
    // snapshot of its build VM. That VM is destroyed when its build ends, so they are never used.
    const planned = await planProject(path.join(dir, "vcsim-mcs.yaml"), { cwd: dir });
    assert.ok(planned.ok);
    const layers = new LayerCache(path.join(dir, "cache/layers"));
    await layers.ensureDir();
    let parent: string | null = null;
    for (const step of planned.plan.steps) {
      await writeFile(layers.layerPath(step.hash), encodeSnapshotLayer({ kind: LAYER_REFERENCE_KIND, url: vcsim.url, vm: "/DC0/vm/gone-build-vm", snapshot: "layer" }));
      await layers.commit(step.hash, { stepId: step.id, parent });
      parent = step.hash;
    }
    const run = await rebakeBuild(CREDENTIALS, { cache: true });
    assert.equal(run.code, 1, run.stderr);
    assert.match(logs(run), /layer cache off: vsphere layers are snapshots of the build VM and go with it/);
    assert.doesNotMatch(logs(run), /linked clone/);
    assert.match(run.stderr, /01-os-install/, "it builds from the ISO, so the OS install runs (and times out on vcsim)");
    assert.deepEqual(await vmNames(), [], "no VM left in vcsim");
  });
});
