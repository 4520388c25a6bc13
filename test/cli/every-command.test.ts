/**
 * "Every command takes --json and --help" (README), for every command `rebake --help` lists: --help
 * exits 0 with the command's usage on stdout and nothing on stderr; --json prints one parseable
 * document with the keys the command's --help documents. Each row runs the command for real on a
 * small project made for it.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIo } from "../../src/cli/io.ts";
import { main, usage } from "../../src/cli/main.ts";
import { execFileSync } from "node:child_process";
import { appendAuditEntry } from "../../src/release/audit-log.ts";
import { pinVersion } from "../../src/stacks/pin-version.ts";
import { workspace } from "../distribute/fixtures.ts";
import { syncProject } from "../support/sync-project.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const PLAN_FIXTURES = join(REPO, "test/fixtures/plan");
const BROKEN_RECIPE = join(REPO, "test/fixtures/bad-schema/bad-enum-firmware.yaml");

const roots: string[] = [];
after(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

async function tempRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "rebake-cli-"));
  roots.push(root);
  return root;
}

function capture(cwd: string, env: NodeJS.ProcessEnv = {}) {
  const out = { stdout: "", stderr: "" };
  const io: CliIo = { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), cwd, env, isTty: false, signal: new AbortController().signal };
  return { io, out };
}

/** A release project: a git repository with the repo's stacks, verified manifests of ws2022-pvs 3.0.2 and 3.1.0, and their publishes in the audit log. */
async function releaseProject(records: readonly [stack: string, version: string][]): Promise<string> {
  const root = await tempRoot();
  await cp(join(REPO, "stacks"), join(root, "stacks"), { recursive: true });
  for (const version of ["3.0.2", "3.1.0"]) {
    await mkdir(join(root, "out/ws2022-pvs", version), { recursive: true });
    await writeFile(join(root, "out/ws2022-pvs", version, "manifest.json"), JSON.stringify({
      manifestVersion: 1, buildId: `b-${version}`, recipe: { name: "ws2022-pvs", version, file: "/r.yaml", hash: "c".repeat(64) }, target: "pvs", driver: "qemu",
      started: "2025-01-01T00:00:00Z", finished: "2025-01-01T01:00:00Z", inputs: [], steps: [], outputs: [{ kind: "vhdx", path: "d.vhdx", size: 1, sha256: "a".repeat(64) }],
      tools: {}, timings: { totalMs: 1, inGuestMs: 0, bootMs: 0, captureMs: 0 }, warnings: [], verification: { passed: true, at: "", durationMs: 1, checks: [] },
    }));
  }
  for (const [i, [stack, version]] of records.entries()) {
    await appendAuditEntry(root, { action: "publish", at: `2025-02-0${i + 1}T00:00:00Z`, who: "ci", commit: "c0ffee", image: "ws2022-pvs", version, stacks: [stack], recipeHash: "c".repeat(64), published: {} });
  }
  // Release commands record who ran them from which commit: the project is a repository.
  const git = (...args: string[]) => execFileSync("git", ["-C", root, ...args]);
  git("init", "-q");
  git("-c", "user.name=ci", "-c", "user.email=ci@example.invalid", "commit", "-q", "--allow-empty", "-m", "release project");
  git("config", "user.name", "ci");
  return root;
}

interface Row {
  /** The words before the options, e.g. ["cache", "ls"]. */
  readonly command: readonly string[];
  /** Arguments of a run that must succeed (or fail, see `exit`) with --json. */
  readonly json?: { readonly args: readonly string[]; readonly cwd: () => Promise<string>; readonly env?: NodeJS.ProcessEnv; readonly exit?: number; readonly keys: readonly string[] };
  /** Why --json is not run here, when it cannot be. */
  readonly notRunHere?: string;
}

const ROWS: Readonly<Record<string, Row>> = {
  validate: { command: ["validate"], json: { args: ["recipes/plan-win-pvs.yaml"], cwd: async () => PLAN_FIXTURES, keys: ["problems", "files", "errors", "warnings"] } },
  plan: { command: ["plan"], json: { args: ["recipes/plan-win-pvs.yaml"], cwd: async () => PLAN_FIXTURES, keys: ["recipe", "hash", "steps", "warnings"] } },
  hash: { command: ["hash"], json: { args: ["recipes/plan-win-pvs.yaml"], cwd: async () => PLAN_FIXTURES, keys: ["recipe", "hash", "steps"] } },
  diff: { command: ["diff"], json: { args: ["recipes/plan-win-mcs.yaml", "next/plan-win-mcs.yaml"], cwd: async () => PLAN_FIXTURES, keys: ["from", "to", "added", "removed", "bumped", "settings"] } },
  // A real build needs a VM (test/integration/build-e2e.test.ts reads its --json events); an invalid recipe stops before one.
  build: { command: ["build"], json: { args: [BROKEN_RECIPE], cwd: tempRoot, exit: 1, keys: ["problems", "files", "errors", "warnings"] } },
  // Likewise: verifying for real boots the artifact (build-e2e runs `rebake verify --json`); a manifest whose recipe is invalid stops before.
  verify: {
    command: ["verify"],
    json: {
      args: ["manifest.json"],
      cwd: async () => {
        const root = await tempRoot();
        await writeFile(join(root, "manifest.json"), JSON.stringify({ manifestVersion: 1, buildId: "b", recipe: { name: "x", version: "1.0.0", file: BROKEN_RECIPE, hash: "a".repeat(64) }, target: "pvs", outputs: [] }));
        return root;
      },
      exit: 1,
      keys: ["problems", "files", "errors", "warnings"],
    },
  },
  cache: { command: ["cache", "ls"], json: { args: [], cwd: tempRoot, env: {}, keys: ["dir", "layers", "downloads"] } },
  sync: {
    command: ["sync"],
    json: {
      args: ["--stack", "t"],
      cwd: async () => {
        const ws = await workspace();
        roots.push(ws.root);
        return syncProject(ws, [await ws.dir("site-a")]);
      },
      keys: ["stack", "vdisk", "size", "sha256", "sites", "exitCode"],
    },
  },
  devices: {
    command: ["devices", "validate"],
    json: {
      args: ["devices/hq.csv"],
      cwd: async () => {
        const root = await releaseProject([]);
        await cp(join(REPO, "devices"), join(root, "devices"), { recursive: true });
        await cp(join(REPO, "recipes"), join(root, "recipes"), { recursive: true });
        return root;
      },
      keys: ["problems", "files", "errors", "warnings", "devices"],
    },
  },
  boot: { command: ["boot"], json: { args: ["--stack", "prod"], cwd: () => releaseProject([]), keys: ["stack", "sites"] } },
  publish: { command: ["publish"], notRunHere: "publishing runs the Pulumi engine, which these machines cannot install (design notes)" },
  version: { command: ["version"], notRunHere: "needs two captured vDisks of one image; test/integration/version-cli.test.ts runs it without --json" },
  promote: { command: ["promote"], json: { args: ["ws2022-pvs", "--from", "test", "--to", "prod"], cwd: () => releaseProject([["test", "3.1.0"]]), env: { PATH: process.env.PATH }, keys: ["file", "from", "to", "changes", "audit"] } },
  revoke: { command: ["revoke"], json: { args: ["ws2022-pvs", "3.0.2", "--reason", "a test"], cwd: () => releaseProject([]), env: { PATH: process.env.PATH }, keys: ["audit", "pinnedBy"] } },
  rollback: {
    command: ["rollback"],
    json: {
      args: ["--stack", "prod", "--reason", "a test"],
      env: { PATH: process.env.PATH },
      cwd: async () => {
        const root = await releaseProject([["prod", "3.0.2"], ["prod", "3.1.0"]]);
        await pinVersion(join(root, "stacks/Pulumi.prod.yaml"), "stacks/Pulumi.prod.yaml", "prod", "3.1.0");
        return root;
      },
      keys: ["file", "from", "to"],
    },
  },
  // Nothing was published to the stacks: status reports that drift (exit 1) and still prints every row.
  status: { command: ["status"], json: { args: [], cwd: () => releaseProject([]), exit: 1, keys: ["stack", "image", "version", "verified", "keep", "sites", "drift"] } },
};

describe("every command takes --help and --json", () => {
  it("the table covers exactly the commands `rebake --help` lists; only publish's and version's --json are not run here", () => {
    const listed = [...usage().matchAll(/^ {2}(\S+) {2,}/gm)].map((m) => m[1]);
    assert.deepEqual(Object.keys(ROWS).sort(), [...listed].sort());
    assert.deepEqual(Object.entries(ROWS).filter(([, row]) => !row.json).map(([name]) => name), ["publish", "version"]);
  });

  for (const [name, row] of Object.entries(ROWS)) {
    it(`${name} --help: exit 0, its usage on stdout, nothing on stderr`, async () => {
      const { io, out } = capture(await tempRoot());
      assert.equal(await main([...row.command, "--help"], io), 0, out.stderr);
      assert.match(out.stdout, new RegExp(`^usage: rebake ${row.command.join(" ")}\\b`));
      assert.match(out.stdout, /--json/, "the usage documents --json");
      assert.equal(out.stderr, "");
    });

    const json = row.json;
    if (!json) continue;
    it(`${name} --json: one parseable document with the documented keys (${json.keys.join(", ")})`, async () => {
      const cwd = await json.cwd();
      // Outside cwd: some commands run in the fixtures of the source tree.
      const env = json.env ?? { REBAKE_CACHE_DIR: join(await tempRoot(), ".cache") };
      const { io, out } = capture(cwd, env);
      assert.equal(await main([...row.command, ...json.args, "--json"], io), json.exit ?? 0, out.stderr);
      const parsed = JSON.parse(out.stdout) as unknown;
      // status prints one object per stack; every other command one object.
      const documents = Array.isArray(parsed) ? parsed : [parsed];
      assert.ok(documents.length > 0);
      for (const document of documents) for (const key of json.keys) assert.ok(key in (document as object), `${key} in ${out.stdout}`);
    });
  }
});
