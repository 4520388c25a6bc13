/**
 * Publish, promote, rollback, revoke and status end to end, as a release manager runs them: the
 * real stack files in a temporary git repository, real git for who and which commit, the audit
 * log read back after every command. Only the Pulumi engine is a fake (the CLI cannot be
 * installed here); `pulumi version` is a script on PATH.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.ts";
import { run as publishCommand } from "../../src/cli/commands/publish.ts";
import { run as statusCommand } from "../../src/cli/commands/status.ts";
import type { EngineRun, PulumiEngine } from "../../src/publish/pulumi-engine.ts";
import type { ServedReader } from "../../src/publish/release-status.ts";
import { parseAuditLog, type AuditEntry } from "../../src/release/audit-log.ts";
import { createExec } from "../../src/util/exec.ts";
import { captureIo } from "../support/capture-io.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const WHO = "Rita Release <rita@corp.example>";

function manifest(version: string, steps: [string, string][]) {
  return {
    manifestVersion: 1, buildId: `b-${version}`, recipe: { name: "ws2022-pvs", version, file: "/r.yaml", hash: `h-${version}` },
    target: "pvs", driver: "qemu", started: "2025-01-01T00:00:00Z", finished: `2025-01-0${version.split(".")[1]}T01:00:00Z`,
    inputs: [], steps: steps.map(([id, title]) => ({ id, title, status: "ok", cacheHit: false, start: "", end: "", durationMs: 1 })),
    outputs: [{ kind: "vhdx", path: "ws2022-apps.vhdx", size: 1, sha256: "a".repeat(64) }], tools: {}, timings: { totalMs: 1, inGuestMs: 0, bootMs: 0, captureMs: 0 }, warnings: [],
    verification: { passed: true, at: "", durationMs: 1, checks: [] },
  };
}

const STEPS: Record<string, [string, string][]> = {
  "3.0.1": [["app-7zip", "7zip 24.06"], ["vda", "VDA 2402"]],
  "3.0.2": [["app-7zip", "7zip 24.07"], ["app-legacy", "legacy-reporting 2.1.0"], ["vda", "VDA 2402"]],
  "3.1.0": [["app-7zip", "7zip 24.08"], ["app-npp", "notepad++ 8.6.9"], ["vda", "VDA 2402"]],
  "3.2.0": [["app-7zip", "7zip 24.09"], ["app-npp", "notepad++ 8.6.9"], ["vda", "VDA 2407"]],
};

describe("release commands end to end in a git repository", () => {
  let root: string;
  let bin: string;
  const engineRuns: EngineRun[] = [];
  const engine: PulumiEngine = {
    preview: async () => ({}),
    up: async (run) => {
      engineRuns.push(run);
      return { HQ: "published" };
    },
  };
  const git = (...args: string[]) => execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();
  const env = () => ({ PATH: `${bin}:${process.env.PATH}`, HOME: root });
  const cli = async (...args: string[]) => {
    const io = captureIo(root, env());
    const code = args[0] === "publish" ? await publishCommand(args.slice(1), io, createExec(), engine) : await main(args, io);
    return { code, out: io.out(), err: io.err() };
  };
  const pin = async (stack: string) => /version: (\S+)/.exec(await readFile(join(root, `stacks/Pulumi.${stack}.yaml`), "utf8"))![1];
  const audit = async (): Promise<AuditEntry[]> => parseAuditLog(await readFile(join(root, "releases/audit.jsonl"), "utf8").catch(() => ""));
  const commit = (message: string) => {
    git("add", "-A");
    git("commit", "-q", "-m", message);
    return git("rev-parse", "HEAD");
  };
  /** Runs a command that must succeed and append exactly one audit entry; returns it. */
  const recorded = async (...args: string[]) => {
    const before = (await audit()).length;
    const result = await cli(...args);
    assert.equal(result.code, 0, result.err);
    const entries = await audit();
    assert.equal(entries.length, before + 1, `rebake ${args.join(" ")} appends one audit entry`);
    return { ...result, entry: entries.at(-1)! };
  };
  /** Runs a command that must be refused (exit 1) without changing any pin or the audit log. */
  const refused = async (...args: string[]) => {
    const pins = await Promise.all(["dev", "test", "prod"].map(pin));
    const before = await audit();
    const result = await cli(...args);
    assert.equal(result.code, 1, `rebake ${args.join(" ")} is refused: ${result.out}`);
    assert.deepEqual(await Promise.all(["dev", "test", "prod"].map(pin)), pins);
    assert.deepEqual(await audit(), before);
    return result.err;
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "rebake-release-"));
    bin = join(root, ".bin");
    await mkdir(bin);
    await writeFile(join(bin, "pulumi"), "#!/bin/sh\necho v3.140.0\n");
    await chmod(join(bin, "pulumi"), 0o755);
    await cp(join(REPO, "stacks"), join(root, "stacks"), { recursive: true });
    await cp(join(REPO, "Pulumi.yaml"), join(root, "Pulumi.yaml"));
    for (const [version, steps] of Object.entries(STEPS)) {
      await mkdir(join(root, "out/ws2022-pvs", version), { recursive: true });
      await writeFile(join(root, "out/ws2022-pvs", version, "manifest.json"), JSON.stringify(manifest(version, steps)));
    }
    await writeFile(join(root, ".gitignore"), ".bin/\n");
    git("init", "-q");
    git("config", "user.name", "Rita Release");
    git("config", "user.email", "rita@corp.example");
    commit("stacks");
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("publish records who, when, which commit, version, stack and what was published", async () => {
    const head = git("rev-parse", "HEAD");
    const { entry, out } = await recorded("publish", "--stack", "dev", "--reason", "nightly");
    assert.match(out, /published ws2022-pvs 3\.2\.0 to dev/);
    assert.deepEqual({ ...entry, at: undefined }, { action: "publish", at: undefined, who: WHO, commit: head, image: "ws2022-pvs", version: "3.2.0", stacks: ["dev"], reason: "nightly", recipeHash: "h-3.2.0", published: { HQ: "published" } });
    assert.equal(engineRuns.at(-1)!.stack, "dev");
    commit("publish dev 3.2.0");
    // Earlier history of the other stacks, as their own publishes recorded it.
    await recorded("publish", "--stack", "test");
    await recorded("publish", "--stack", "prod");
    commit("publish test, prod");
  });

  const refusals: { name: string; args: string[]; rules: RegExp[] }[] = [
    { name: "skipping a stage", args: ["promote", "ws2022-pvs", "--from", "dev", "--to", "prod"], rules: [/promote-skips-stage  dev -> prod skips test/, /--out-of-order --reason/] },
    { name: "going against the order to an older version", args: ["promote", "ws2022-pvs", "--from", "prod", "--to", "dev"], rules: [/promote-against-order/, /promote-downgrade  dev would go from 3\.2\.0 back to the older 3\.0\.2/] },
    { name: "an override without its own flag", args: ["promote", "ws2022-pvs", "--from", "prod", "--to", "dev", "--out-of-order", "--reason", "lab repro"], rules: [/promote-downgrade/] },
    { name: "another image than the stacks pin", args: ["promote", "win11-mcs", "--from", "dev", "--to", "test"], rules: [/promote-image  stacks\/Pulumi\.dev\.yaml pins the image ws2022-pvs, not win11-mcs/] },
  ];
  for (const r of refusals) {
    it(`promote refuses ${r.name}, naming each rule, and changes nothing`, async () => {
      const err = await refused(...r.args);
      for (const rule of r.rules) assert.match(err, rule);
    });
  }

  it("an override needs a reason (usage, exit 2)", async () => {
    const { code, err } = await cli("promote", "ws2022-pvs", "--from", "dev", "--to", "prod", "--out-of-order");
    assert.equal(code, 2);
    assert.match(err, /--out-of-order needs --reason/);
  });

  it("promote pins the next stage, prints the change log, and --json has the changes its help promises", async () => {
    const { entry, out } = await recorded("promote", "ws2022-pvs", "--from", "dev", "--to", "test", "--json");
    assert.equal(await pin("test"), "3.2.0");
    const json = JSON.parse(out);
    assert.deepEqual({ file: json.file, from: json.from, to: json.to, downgrade: json.downgrade }, { file: "stacks/Pulumi.test.yaml", from: "3.1.0", to: "3.2.0", downgrade: false });
    assert.deepEqual(json.changes, [{ id: "app-7zip", kind: "bumped", from: "7zip 24.08", to: "7zip 24.09" }, { id: "vda", kind: "bumped", from: "VDA 2402", to: "VDA 2407" }]);
    assert.deepEqual(json.audit, entry);
    assert.deepEqual([entry.action, entry.version, entry.previous, entry.stacks, entry.who], ["promote", "3.2.0", "3.1.0", ["test"], WHO]);
    assert.match(entry.commit, /^[0-9a-f]{40}$/);
    commit("promote 3.2.0 to test");
  });

  it("a downgrade against the order needs both overrides, and is worded a downgrade, never bumped", async () => {
    const { entry, out } = await recorded("promote", "ws2022-pvs", "--from", "prod", "--to", "dev", "--out-of-order", "--downgrade", "--reason", "reproduce the prod incident in the lab");
    assert.equal(await pin("dev"), "3.0.2");
    assert.match(out, /stacks\/Pulumi\.dev\.yaml: downgraded 3\.2\.0 -> 3\.0\.2 \(overriding out-of-order, downgrade: reproduce the prod incident in the lab\)/);
    assert.match(out, /ws2022-pvs 3\.2\.0 -> 3\.0\.2 \(downgrade to an older version\):/);
    assert.match(out, /downgraded 7zip 24\.09 -> 7zip 24\.07/);
    assert.doesNotMatch(out, /bumped/);
    assert.deepEqual([entry.overrides, entry.reason, entry.previous, entry.version], [["out-of-order", "downgrade"], "reproduce the prod incident in the lab", "3.2.0", "3.0.2"]);
    // Not committed yet: the next entry says the work tree was dirty.
    const dirty = await recorded("revoke", "ws2022-pvs", "3.0.1", "--reason", "never shipped");
    assert.match(dirty.entry.commit, /^[0-9a-f]{40}\+dirty$/);
    commit("dev back to 3.0.2; revoke 3.0.1");
  });

  it("rollback pins the previous version, revokes the abandoned one, and a second rollback never re-pins it", async () => {
    await recorded("publish", "--stack", "test");
    await recorded("promote", "ws2022-pvs", "--from", "test", "--to", "prod", "--reason", "CAB-1234");
    await recorded("publish", "--stack", "prod");
    commit("prod 3.2.0");
    const back = await recorded("rollback", "--stack", "prod", "--reason", "logon storm");
    assert.equal(await pin("prod"), "3.0.2");
    assert.deepEqual([back.entry.action, back.entry.version, back.entry.previous, back.entry.reason], ["rollback", "3.0.2", "3.2.0", "logon storm"]);
    assert.match(back.out, /downgraded 3\.2\.0 -> 3\.0\.2/);
    commit("rollback prod");
    // Republish and roll back again: 3.2.0 is revoked and 3.0.1 too, so nothing is left.
    await recorded("publish", "--stack", "prod");
    assert.match(await refused("rollback", "--stack", "prod", "--reason", "again"), /rollback-target  .*no earlier version of ws2022-pvs was published to prod that is not revoked/);
    assert.match(await refused("rollback", "--stack", "prod", "--to", "3.2.0", "--reason", "again"), /pin-revoked  3\.2\.0 is revoked \(by Rita Release <rita@corp\.example> at .*: logon storm\)/);
  });

  it("a revoked version is never pinned or published again until it is un-revoked", async () => {
    assert.match(await refused("promote", "ws2022-pvs", "--from", "test", "--to", "prod"), /pin-revoked  3\.2\.0 is revoked/);
    assert.match(await refused("publish", "--stack", "test"), /3\.2\.0 is revoked/);
    const undo = await recorded("revoke", "ws2022-pvs", "3.2.0", "--undo", "--reason", "fixed by a GPO change");
    assert.deepEqual([undo.entry.action, undo.entry.version, undo.entry.stacks], ["unrevoke", "3.2.0", ["test"]]);
    await recorded("promote", "ws2022-pvs", "--from", "test", "--to", "prod", "--reason", "CAB-1240");
    assert.equal(await pin("prod"), "3.2.0");
    assert.match(await refused("revoke", "ws2022-pvs", "3.0.1", "--reason", "twice"), /revoke-state  ws2022-pvs 3\.0\.1 is already revoked/);
  });

  it("publish with a Pulumi CLI that cannot start gives the install advice, exit 1, and records nothing", async () => {
    await writeFile(join(bin, "pulumi"), "#!/bin/sh\necho 'Error: failed to download the Pulumi CLI: ENOTFOUND get.pulumi.com' >&2\nexit 1\n");
    try {
      const err = await refused("publish", "--stack", "prod");
      assert.match(err, /^rebake publish: pulumi-unavailable  the Pulumi CLI does not start: 'pulumi version' exited with code 1/);
      assert.match(err, /npm install --global pulumi/);
      assert.doesNotMatch(err, /CommandFailedError|\n\s+at /);
    } finally {
      await writeFile(join(bin, "pulumi"), "#!/bin/sh\necho v3.140.0\n");
    }
  });

  it("the audit log is one JSON object per line, appended, in the repository for review", async () => {
    const text = await readFile(join(root, "releases/audit.jsonl"), "utf8");
    assert.deepEqual((await audit()).map((e) => e.action), ["publish", "publish", "publish", "promote", "promote", "revoke", "publish", "promote", "publish", "rollback", "publish", "unrevoke", "promote"]);
    assert.ok(text.split("\n").filter(Boolean).every((line) => line.startsWith('{"action":')));
    commit("release log");
    assert.match(git("log", "--stat", "-1"), /releases\/audit\.jsonl/);
  });

  it("status compares pins with what each store serves, shows the retention rule and reports drift (--json, exit 1)", async () => {
    const served: Record<string, string[]> = { "smb://pvs-dev01.corp.example/vDisks": ["ws2022-apps-3.2.0.vhdx"], "/mnt/pvs/hq/vDisks": ["ws2022-apps-3.2.0.vhdx", "ws2022-apps-3.0.2.vhdx", "ws2022-apps-2.9.0.vhdx"] };
    const reader: ServedReader = {
      storeFiles: async (stack, site) => {
        const location = stack.pvs!.sites.find((s) => s.name === site)!.store.location;
        if (!served[location]) throw new Error(`cannot reach ${location}`);
        return served[location]!;
      },
      catalogImage: async () => "",
      // dev's PVS server does not answer; test's version was never promoted to Test; prod serves its pin at HQ, and Lyon's lookup fails.
      pvsRegistered: async (stack) => {
        const vdisk = `ws2022-apps-${stack.image.version}`;
        if (stack.stack === "dev") throw new Error("cannot reach the PVS server over SSH (svc@pvs-dev01:22): Connection timed out\nsecond line of ssh's stderr");
        if (stack.stack === "test") return [{ siteName: "HQ", storeName: "Store-HQ", vdisks: [{ name: vdisk, versions: [{ version: 0, access: 0 }, { version: 1, access: 1 }] }] }];
        return [{ siteName: "HQ", storeName: "Store-HQ", vdisks: [{ name: vdisk, versions: [{ version: 0, access: 0 }] }] }, { siteName: "Branch-Lyon", storeName: "Store-Lyon", error: "Server did not respond to a request in time." }];
      },
    };
    const io = captureIo(root, env());
    assert.equal(await statusCommand(["--json"], io, reader), 1, io.err());
    const rows = JSON.parse(io.out()) as { stack: string; version: string; keep: { version: string; why: string }[]; sites: { site: string; versions?: string[]; unreachable?: string }[]; drift: string[] }[];
    const byStack = Object.fromEntries(rows.map((r) => [r.stack, r]));
    assert.deepEqual(byStack.dev!.keep, [{ version: "3.0.2", why: "pinned" }, { version: "3.2.0", why: "rollback" }]);
    assert.deepEqual(byStack.prod!.keep.map((k) => `${k.version} ${k.why}`), ["3.2.0 pinned", "3.0.2 rollback", "3.1.0 kept by test"]);
    assert.deepEqual(byStack.dev!.drift, ["site Lab: store smb://pvs-dev01.corp.example/vDisks does not hold the pinned 3.0.2", "pins 3.0.2, which was never published to dev (rebake publish --stack dev)"].sort((a, b) => (a.startsWith("pins") ? -1 : b.startsWith("pins") ? 1 : 0)));
    assert.ok(byStack.prod!.drift.includes("site HQ: store holds 2.9.0, which no stack keeps (its next publish removes it, or remove it by hand)"));
    assert.match(byStack.prod!.sites.find((s) => s.site === "Branch-Lyon")!.unreachable!, /cannot reach smb:\/\/pvs-lyo01/);
    const pvs = (stack: string) => (rows.find((r) => r.stack === stack) as unknown as { pvs: { expected?: { vdisk: string; accessMode: string }; unreachable?: string; sites?: { siteName: string; error?: string }[] } }).pvs;
    assert.equal(pvs("dev").unreachable, "cannot reach the PVS server over SSH (svc@pvs-dev01:22): Connection timed out second line of ssh's stderr");
    assert.deepEqual(pvs("test").expected, { vdisk: `ws2022-apps-${byStack.test!.version}`, accessMode: "test" });
    assert.ok(byStack.test!.drift.includes(`site HQ: PVS vDisk ws2022-apps-${byStack.test!.version} has no Test version (accessMode test); its versions: 0 Production, 1 Maintenance`), byStack.test!.drift.join("\n"));
    assert.equal(pvs("prod").sites!.find((s) => s.siteName === "Branch-Lyon")!.error, "Server did not respond to a request in time.");
    assert.ok(!byStack.prod!.drift.some((d) => d.includes("PVS")), byStack.prod!.drift.join("\n"));
    const text = captureIo(root, env());
    assert.equal(await statusCommand([], text, reader), 1, text.err());
    assert.match(text.out(), /^dev: PVS not read, so not compared: cannot reach the PVS server over SSH/m);
    assert.match(text.out(), /^prod: PVS site Branch-Lyon \(store Store-Lyon\): not read: Server did not respond/m);
    assert.match(text.out(), /^prod: PVS site HQ \(store Store-HQ\): ws2022-apps-3\.2\.0 versions 0 Production$/m);
    assert.match(text.out(), /^test: DRIFT site HQ: PVS vDisk ws2022-apps-\S+ has no Test version/m);
  });
});
