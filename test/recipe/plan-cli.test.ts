import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { captureIo } from "../support/capture-io.ts";
import { createExec } from "../../src/util/exec.ts";
import { FIXTURES } from "./plan-fixtures.ts";

async function rebake(cwd: string, ...args: string[]) {
  const io = captureIo(cwd);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe("rebake plan and hash", () => {
  it("plan --json and --format json print the same plan", async () => {
    const a = await rebake(FIXTURES, "plan", "recipes/plan-win-pvs.yaml", "--json");
    const b = await rebake(FIXTURES, "plan", "recipes/plan-win-pvs.yaml", "--format", "json");
    assert.equal(a.code, 0);
    assert.equal(a.out, b.out);
    assert.deepEqual(Object.keys(JSON.parse(a.out)).sort(), ["family", "hash", "recipe", "steps", "target", "warnings"]);
  });

  it("hash prints the recipe hash, then each step's cumulative hash", async () => {
    const plan = JSON.parse((await rebake(FIXTURES, "plan", "recipes/plan-linux-mcs.yaml", "--json")).out);
    const text = await rebake(FIXTURES, "hash", "recipes/plan-linux-mcs.yaml");
    assert.equal(text.code, 0);
    const lines = text.out.trimEnd().split("\n");
    assert.equal(lines[0], `${plan.hash}  plan-linux-mcs 0.3.0 (recipes/plan-linux-mcs.yaml)`);
    assert.deepEqual(lines.slice(1), plan.steps.map((s: { hash: string; id: string }) => `${s.hash}  ${s.id}`));
    const json = JSON.parse((await rebake(FIXTURES, "hash", "recipes/plan-linux-mcs.yaml", "--json")).out);
    assert.equal(json.hash, plan.hash);
    assert.deepEqual(Object.keys(json.steps[0]), ["id", "contentHash", "hash"]);
  });

  const usage: { name: string; args: string[] }[] = [
    { name: "no recipe", args: ["plan"] },
    { name: "two recipes", args: ["plan", "a.yaml", "b.yaml"] },
    { name: "unknown format", args: ["plan", "recipes/plan-win-pvs.yaml", "--format", "html"] },
    { name: "unknown option", args: ["hash", "recipes/plan-win-pvs.yaml", "--verbose"] },
    { name: "diff with one recipe and no --base", args: ["diff", "recipes/plan-win-pvs.yaml"] },
  ];
  for (const u of usage) {
    it(`exit 2 on wrong usage: ${u.name}`, async () => {
      const result = await rebake(FIXTURES, ...u.args);
      assert.equal(result.code, 2, result.err);
    });
  }

  it("an invalid recipe prints its problems like validate and exits 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rebake-plan-"));
    try {
      await writeFile(join(dir, "broken.yaml"), "metadata:\n  name: broken\n  version: 1.0.0\nos:\n  family: beos\n");
      for (const command of ["plan", "hash"]) {
        const result = await rebake(dir, command, "broken.yaml");
        assert.equal(result.code, 1);
        assert.match(result.out, /^broken\.yaml:\d+:\d+  \S+  /m);
        assert.match(result.out, /\d+ errors?, \d+ warnings? in 1 file/);
      }
      const json = JSON.parse((await rebake(dir, "plan", "broken.yaml", "--json")).out);
      assert.ok(json.errors > 0 && Array.isArray(json.problems));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("rebake diff", () => {
  it("compares two recipe files", async () => {
    const result = await rebake(FIXTURES, "diff", "recipes/plan-win-mcs.yaml", "next/plan-win-mcs.yaml", "--json");
    assert.equal(result.code, 0, result.out);
    const diff = JSON.parse(result.out);
    assert.deepEqual(diff.bumped.map((b: { name: string; from: string; to: string }) => `${b.name} ${b.from}->${b.to}`), [
      "7zip 24.08->24.09",
      "citrix-vda 2402.0.100.629->2407.0.0.1",
    ]);
    assert.deepEqual(diff.removed.map((c: { name: string }) => c.name), ["vcredist", "lob-client"]);
    assert.equal(diff.firstRerun.id, "05-app-7zip");
    assert.equal(diff.reusedSteps, 4);
  });

  it("--base reads the old recipe and apps from git and hashes old input files from git", async () => {
    const repo = await mkdtemp(join(tmpdir(), "rebake-diff-base-"));
    const exec = createExec();
    const git = (...args: string[]) =>
      exec("git", ["-c", "user.name=rebake tests", "-c", "user.email=tests@rebake.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo });
    try {
      for (const dir of ["recipes", "apps", "files", "scripts"]) await cp(join(FIXTURES, dir), join(repo, dir), { recursive: true });
      await git("init", "--quiet");
      await git("add", ".");
      await git("commit", "--quiet", "-m", "base");
      // The change under review: a new app version, a new app definition, a patched installer.
      const recipe = join(repo, "recipes", "plan-win-pvs.yaml");
      await writeFile(recipe, (await readFile(recipe, "utf8")).replace("7zip@24.08", "7zip@24.10").replace("cpus: 4", "cpus: 6"));
      await writeFile(join(repo, "apps", "7zip-24.10.yaml"), (await readFile(join(repo, "apps", "7zip-24.09.yaml"), "utf8")).replaceAll("24.09", "24.10"));
      await writeFile(join(repo, "files", "7z-24.10.msi"), "fake 7-Zip 24.10\n");
      await writeFile(join(repo, "files", "PVS_Device_x64.exe"), "patched target-device installer\n");
      await git("rm", "--quiet", "--cached", "apps/7zip-24.09.yaml");

      const result = await rebake(repo, "diff", "recipes/plan-win-pvs.yaml", "--base", "HEAD", "--json");
      assert.equal(result.code, 0, result.out + result.err);
      const diff = JSON.parse(result.out);
      assert.equal(diff.from.file, "HEAD:recipes/plan-win-pvs.yaml");
      assert.deepEqual(diff.bumped, [{ kind: "app", name: "7zip", from: "24.08", to: "24.10" }]);
      assert.deepEqual(diff.changed.map((c: { name: string }) => c.name), ["os", "pvs-target-device"]);
      assert.deepEqual(diff.settings, [{ path: "hardware.cpus", from: 4, to: 6 }]);
      assert.equal(diff.firstRerun.index, 0, "a hardware change rebuilds from the OS install");

      const markdown = await rebake(repo, "diff", "recipes/plan-win-pvs.yaml", "--base", "HEAD", "--format", "markdown");
      assert.match(markdown.out, /\| bumped \| app `7zip` \| 24\.08 \| 24\.10 \|/);

      const unknownRef = await rebake(repo, "diff", "recipes/plan-win-pvs.yaml", "--base", "no-such-ref");
      assert.equal(unknownRef.code, 1);
      assert.match(unknownRef.err, /no-such-ref/);

      await writeFile(join(repo, "recipes", "plan-new.yaml"), (await readFile(recipe, "utf8")).replace("name: plan-win-pvs", "name: plan-new"));
      const added = await rebake(repo, "diff", "recipes/plan-new.yaml", "--base", "HEAD");
      assert.equal(added.code, 0, added.out + added.err);
      assert.match(added.out, /is new at this change/);
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });
});
