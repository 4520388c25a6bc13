/**
 * The Pulumi program as the engine runs it: each stack of stacks/ through the SDK's own loader
 * (@pulumi/pulumi cmd/run, in its own process, test/support/langhost-run.ts) under mocks. Checks
 * what is declared, what waits for what, and which versions the retention rule keeps.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AuditEntry } from "../../src/release/audit-log.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const ENTRY = join(REPO, "src/publish/index.ts");
const HARNESS = join(REPO, "test/support/langhost-run.ts");
const SHA = "b".repeat(64);
/**
 * A run takes seconds; one that fails takes up to a minute and a half on a loaded machine (the
 * SDK's uncaught-error handler inspects the error, which parses the source maps of every frame
 * under tsx). A hung run is killed here and fails the test.
 */
const RUN_BOUND_MS = 300_000;

interface Declared {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly dependsOn: string[];
  readonly inputsFrom: Record<string, string[]>;
}

function manifest(version: string, verified = true) {
  return {
    manifestVersion: 1, buildId: `b-${version}`,
    recipe: { name: "ws2022-pvs", version, file: join(REPO, "recipes/ws2022-pvs.yaml"), hash: "c".repeat(64) },
    target: "pvs", driver: "qemu", started: "2025-01-01T00:00:00Z", finished: "2025-01-01T01:00:00Z",
    inputs: [], steps: [], outputs: [{ kind: "vhdx", path: "ws2022-apps.vhdx", size: 1024, sha256: SHA }],
    tools: {}, timings: { totalMs: 1, inGuestMs: 0, bootMs: 0, captureMs: 0 }, warnings: [],
    ...(verified ? { verification: { passed: true, at: "2025-01-01T02:00:00Z", durationMs: 1, checks: [] } } : {}),
  };
}

/** Runs `entry` for `stack` as the language host would; the resources declared, exit code and stderr. */
async function runLikeLanghost(entry: string, root: string, stack: string): Promise<{ code: number | null; stderr: string; declared: Declared[] }> {
  const out = join(root, `declared-${stack}.json`);
  await rm(out, { force: true });
  const child = spawn(process.execPath, ["--import", "tsx", HARNESS, entry, root, stack, out], { cwd: REPO, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_BOUND_MS);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  const declared = JSON.parse(await readFile(out, "utf8").catch(() => "[]")) as Declared[];
  return { code, stderr, declared };
}

/** The program in this process under mocks, for the cases that fail. */
async function programUnderMocks(stack: string) {
  const pulumi = await import("@pulumi/pulumi");
  await pulumi.runtime.setMocks({ newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: (args) => args.inputs }, "rebake", stack);
  return import("../../src/publish/program.ts");
}

const audit = (root: string, entries: Partial<AuditEntry>[]) =>
  appendFile(join(root, "releases/audit.jsonl"), entries.map((e) => `${JSON.stringify({ at: "2025-01-01T00:00:00Z", who: "rm", commit: "c0ffee", image: "ws2022-pvs", ...e })}\n`).join(""));

describe("publish program, loaded as Pulumi's language host loads it (mocks)", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "rebake-program-"));
    await cp(join(REPO, "stacks"), join(root, "stacks"), { recursive: true });
    await cp(join(REPO, "devices"), join(root, "devices"), { recursive: true });
    await cp(join(REPO, "Pulumi.yaml"), join(root, "Pulumi.yaml"));
    for (const version of ["3.2.0", "3.1.0", "3.0.2", "3.0.1", "3.0.0"]) {
      await mkdir(join(root, "out/ws2022-pvs", version), { recursive: true });
      await writeFile(join(root, "out/ws2022-pvs", version, "manifest.json"), JSON.stringify(manifest(version)));
    }
    await mkdir(join(root, "releases"));
    // prod ran 3.0.0, 3.0.1 (revoked by a rollback) and 3.0.2; test ran 3.0.2 then 3.1.0.
    await audit(root, [
      { action: "publish", version: "3.0.0", stacks: ["prod"] },
      { action: "publish", version: "3.0.1", stacks: ["prod"] },
      { action: "rollback", version: "3.0.0", previous: "3.0.1", stacks: ["prod"], reason: "crash on login" },
      { action: "publish", version: "3.0.2", stacks: ["prod"] },
      { action: "publish", version: "3.0.2", stacks: ["test"] },
      { action: "publish", version: "3.1.0", stacks: ["test"] },
    ]);
  });
  after(() => rm(root, { recursive: true, force: true }));

  const stacks = [
    // keepVersions 2 (Pulumi.yaml): the pin and the newest earlier version not revoked; test and
    // prod share the HQ store, so each keeps the other's versions there too (file only).
    { stack: "dev", version: "3.2.0", sites: ["Lab"], accessMode: "maintenance", registered: ["3.2.0"], files: ["3.2.0"], devices: 0 },
    { stack: "test", version: "3.1.0", sites: ["HQ"], accessMode: "test", registered: ["3.1.0", "3.0.2"], files: ["3.1.0", "3.0.2", "3.0.0"], devices: 0 },
    { stack: "prod", version: "3.0.2", sites: ["HQ", "Branch-Lyon"], accessMode: "production", registered: ["3.0.2", "3.0.0"], files: ["3.0.2", "3.0.0", "3.1.0"], devices: 5 },
  ];
  for (const c of stacks) {
    it(`${c.stack}: the SDK's loader runs the entrypoint; vDisks ${c.files.join(", ")} kept per site, ${c.registered.join(", ")} registered in ${c.accessMode}; copy -> register -> assign devices in that order`, async () => {
      const { code, stderr, declared } = await runLikeLanghost(ENTRY, root, c.stack);
      assert.equal(code, 0, stderr);
      const named = (type: string) => declared.filter((r) => r.type === `pulumi-nodejs:dynamic/rebake:${type}`);
      assert.deepEqual(declared.filter((r) => r.type === "rebake:index:GoldenImage").map((r) => r.name), ["ws2022-pvs"]);
      assert.deepEqual(named("Vdisk").map((d) => d.name).sort(), c.sites.flatMap((s) => c.files.map((v) => `${s}-vdisk-${v}`)).sort());
      assert.deepEqual(named("PvsRegistration").map((r) => r.name).sort(), c.sites.flatMap((s) => c.registered.map((v) => `${s}-registration-${v}`)).sort());
      for (const disk of named("Vdisk")) {
        const version = disk.name.slice(disk.name.lastIndexOf("-") + 1);
        assert.equal(disk.inputs.name, `ws2022-apps-${version}`);
        assert.equal(disk.inputs.source, join(root, "out/ws2022-pvs", version, "ws2022-apps.vhdx"));
        assert.equal(disk.inputs.sha256, SHA);
      }
      for (const registration of named("PvsRegistration")) {
        const disk = registration.name.replace("-registration-", "-vdisk-");
        assert.equal(registration.inputs.accessMode, c.accessMode);
        assert.ok(registration.dependsOn.includes(disk), `${registration.name} waits for ${disk}`);
        assert.deepEqual(registration.inputsFrom.sha256, [disk], `${registration.name} takes its sha256 from the copy`);
      }
      const devices = named("PvsDevice");
      assert.equal(devices.length, c.devices);
      for (const device of devices) {
        const registration = `${device.inputs.siteName}-registration-${c.version}`;
        assert.deepEqual(device.inputsFrom.diskLocatorName, [registration], `${device.name} is assigned the vDisk its site registered`);
        assert.equal(device.inputs.diskLocatorName, `ws2022-apps-${c.version}`);
      }
    });
  }

  it("the language host refuses an entrypoint with both a default export and named exports (the program before this fix)", async () => {
    // In its own package of type module, as the project is: the host imports it as an ES module.
    const dir = join(root, "both-exports");
    await mkdir(dir);
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const both = join(dir, "index.ts");
    await writeFile(both, `import { program } from ${JSON.stringify(join(REPO, "src/publish/program.ts"))};\nexport { program };\nexport default () => program();\n`);
    const { code, stderr } = await runLikeLanghost(both, root, "dev");
    assert.notEqual(code, 0);
    assert.match(stderr, /expected entrypoint module to have either a default export or named exports but not both/);
  });

  // Failures in-process: the language host formats an uncaught error's stack through source maps,
  // which takes a minute per run on a loaded machine; the loader itself is covered above.
  it("refuses to publish a version that was not verified", async () => {
    await writeFile(join(root, "out/ws2022-pvs/3.2.0/manifest.json"), JSON.stringify(manifest("3.2.0", false)));
    try {
      const { program } = await programUnderMocks("dev");
      await assert.rejects(program({ root, stack: "dev" }), /never verified; run rebake verify/);
    } finally {
      await writeFile(join(root, "out/ws2022-pvs/3.2.0/manifest.json"), JSON.stringify(manifest("3.2.0")));
    }
  });

  it("names the missing manifest of a version the retention rule keeps", async () => {
    await rm(join(root, "out/ws2022-pvs/3.0.0"), { recursive: true });
    try {
      const { program } = await programUnderMocks("prod");
      await assert.rejects(program({ root, stack: "prod" }), /ws2022-pvs 3\.0\.0 stays in prod's stores \(rollback\) but its manifest .* is missing/);
    } finally {
      await mkdir(join(root, "out/ws2022-pvs/3.0.0"), { recursive: true });
      await writeFile(join(root, "out/ws2022-pvs/3.0.0/manifest.json"), JSON.stringify(manifest("3.0.0")));
    }
  });
});
