import { after, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIo } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { writePublishRecord } from "../../src/publish/publish-record.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

function io(cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const out = { stdout: "", stderr: "" };
  const cli: CliIo = { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t), cwd, env, isTty: false, signal: new AbortController().signal };
  return { cli, out };
}

function manifest(version: string, steps: [string, string][], verified: boolean | "never" = true) {
  return {
    manifestVersion: 1, buildId: `b-${version}`, recipe: { name: "ws2022-pvs", version, file: "/r.yaml", hash: version.padEnd(64, "0").replace(/\./g, "1") },
    target: "pvs", driver: "qemu", started: "2025-01-01T00:00:00Z", finished: `2025-01-0${version.split(".")[1]}T01:00:00Z`,
    inputs: [], steps: steps.map(([id, title]) => ({ id, title, status: "ok", cacheHit: false, start: "", end: "", durationMs: 1 })),
    outputs: [{ kind: "vhdx", path: "d.vhdx", size: 1, sha256: "a".repeat(64) }], tools: {}, timings: { totalMs: 1, inGuestMs: 0, bootMs: 0, captureMs: 0 }, warnings: [],
    ...(verified === "never" ? {} : { verification: { passed: verified, at: "", durationMs: 1, checks: [] } }),
  };
}

describe("publish, promote, rollback, status commands", () => {
  let root: string;
  const manifestPath = (version: string) => join(root, "out/ws2022-pvs", version, "manifest.json");
  const writeManifest = async (version: string, m: object) => {
    await mkdir(join(root, "out/ws2022-pvs", version), { recursive: true });
    await writeFile(manifestPath(version), JSON.stringify(m));
  };
  const record = (stack: string, version: string, at: string) =>
    writePublishRecord(manifestPath(version), { stack, recipe: "ws2022-pvs", version, recipeHash: version.padEnd(64, "0").replace(/\./g, "1"), publishedAt: at, published: {} });

  beforeEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
    root = await mkdtemp(join(tmpdir(), "rebake-release-"));
    await cp(join(REPO, "stacks"), join(root, "stacks"), { recursive: true });
    await writeManifest("3.0.2", manifest("3.0.2", [["app-7zip", "7zip 24.07"], ["app-legacy", "legacy-reporting 2.1.0"], ["vda", "VDA 2402"]]));
    await writeManifest("3.1.0", manifest("3.1.0", [["app-7zip", "7zip 24.08"], ["app-npp", "notepad++ 8.6.9"], ["vda", "VDA 2402"]]));
    await writeManifest("3.2.0", manifest("3.2.0", [["app-7zip", "7zip 24.08"]], "never"));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("publish says how to install the Pulumi CLI when it is missing, exit 1, no stack trace", async () => {
    await writeManifest("3.1.0", manifest("3.1.0", [], true));
    const empty = await mkdtemp(join(tmpdir(), "rebake-nopath-"));
    try {
      const { cli, out } = io(root, { ...process.env, PATH: empty });
      assert.equal(await main(["publish", "--stack", "test"], cli), 1);
      assert.match(out.stderr, /the Pulumi CLI is not installed/);
      assert.match(out.stderr, /npm install --global pulumi/);
      assert.match(out.stderr, /get\.pulumi\.com/);
      assert.doesNotMatch(out.stderr, /\n\s+at /);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("publish refuses an unverified version before touching Pulumi", async () => {
    const { cli, out } = io(root);
    assert.equal(await main(["publish", "--stack", "dev"], cli), 1);
    assert.match(out.stderr, /ws2022-pvs 3\.2\.0 was never verified/);
  });

  it("promote refuses a version that was not verified in the lower stack", async () => {
    const { cli, out } = io(root);
    assert.equal(await main(["promote", "ws2022-pvs", "--from", "dev", "--to", "test"], cli), 1);
    assert.match(out.stderr, /3\.2\.0 is not verified \(never verified\)/);
    assert.match(await readFile(join(root, "stacks/Pulumi.test.yaml"), "utf8"), /version: 3\.1\.0/);
  });

  it("promote refuses a verified version that was never published to the lower stack", async () => {
    const { cli, out } = io(root);
    assert.equal(await main(["promote", "ws2022-pvs", "--from", "test", "--to", "prod"], cli), 1);
    assert.match(out.stderr, /was not published to test.*rebake publish --stack test/);
  });

  it("promote pins the version in the higher stack, one line changed, and prints the change log", async () => {
    await record("test", "3.1.0", "2025-02-01T00:00:00Z");
    const before = await readFile(join(root, "stacks/Pulumi.prod.yaml"), "utf8");
    const { cli, out } = io(root);
    assert.equal(await main(["promote", "ws2022-pvs", "--from", "test", "--to", "prod"], cli), 0, out.stderr);
    assert.equal(await readFile(join(root, "stacks/Pulumi.prod.yaml"), "utf8"), before.replace("version: 3.0.2", "version: 3.1.0"));
    assert.equal(out.stdout, [
      "stacks/Pulumi.prod.yaml: 3.0.2 -> 3.1.0",
      "ws2022-pvs 3.0.2 -> 3.1.0:",
      "  bumped 7zip 24.07 -> 7zip 24.08",
      "  added notepad++ 8.6.9",
      "  removed legacy-reporting 2.1.0",
      "",
    ].join("\n"));
  });

  it("promote prints the change log as Markdown", async () => {
    await record("test", "3.1.0", "2025-02-01T00:00:00Z");
    const { cli, out } = io(root);
    assert.equal(await main(["promote", "ws2022-pvs", "--from", "test", "--to", "prod", "--markdown"], cli), 0);
    assert.match(out.stdout, /### ws2022-pvs 3\.0\.2 -> 3\.1\.0\n\n\| change \| step \| from \| to \|\n\| --- \| --- \| --- \| --- \|\n\| bumped \| `app-7zip` \| 7zip 24\.07 \| 7zip 24\.08 \|/);
  });

  it("rollback pins the version the stack ran before", async () => {
    await record("prod", "3.0.2", "2025-01-01T00:00:00Z");
    await record("prod", "3.1.0", "2025-02-01T00:00:00Z");
    const { pinVersion } = await import("../../src/stacks/pin-version.ts");
    await pinVersion(join(root, "stacks/Pulumi.prod.yaml"), "stacks/Pulumi.prod.yaml", "prod", "3.1.0");
    const { cli, out } = io(root);
    assert.equal(await main(["rollback", "--stack", "prod"], cli), 0, out.stderr);
    assert.match(await readFile(join(root, "stacks/Pulumi.prod.yaml"), "utf8"), /version: 3\.0\.2/);
    assert.match(out.stdout, /3\.1\.0 -> 3\.0\.2/);
  });

  it("rollback says so when there is nothing to roll back to", async () => {
    const { cli, out } = io(root);
    assert.equal(await main(["rollback", "--stack", "prod"], cli), 1);
    assert.match(out.stderr, /no earlier version of ws2022-pvs was published to prod/);
  });

  it("status shows each stack's pin, build time, verification and publish", async () => {
    await record("test", "3.1.0", "2025-02-01T00:00:00Z");
    const { cli, out } = io(root);
    assert.equal(await main(["status", "--json"], cli), 0);
    assert.deepEqual(JSON.parse(out.stdout), [
      { stack: "dev", image: "ws2022-pvs", version: "3.2.0", built: "2025-01-02T01:00:00Z", verified: "never" },
      { stack: "test", image: "ws2022-pvs", version: "3.1.0", built: "2025-01-01T01:00:00Z", verified: "passed", published: "2025-02-01T00:00:00Z" },
      { stack: "prod", image: "ws2022-pvs", version: "3.0.2", built: "2025-01-00T01:00:00Z", verified: "passed" },
    ]);
  });
});
