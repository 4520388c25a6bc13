import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { CanonicalJsonError, canonicalJson } from "../../src/recipe/canonical-json.ts";
import { chainHash, hashFileSha256, sha256Hex } from "../../src/recipe/hash.ts";
import type { Recipe } from "../../src/recipe/model.ts";
import { edited, fakeHashFile, fixtureRecipe, fixtureText, planOf } from "./plan-fixtures.ts";

const PVS = fixtureText("plan-win-pvs");

/** The PVS fixture written differently: same meaning, other key order, comments, styles. */
const SAME_MEANING: { name: string; text: string }[] = [
  { name: "as committed", text: PVS },
  {
    name: "keys in another order, comments, flow style, quoted scalars",
    text: `# the same recipe, written by someone else
target: { kind: pvs, vdiskName: "plan-win-pvs", targetDeviceName: PLANPVS01,
  targetDevice: { installer: { path: "../files/PVS_Device_x64.exe" }, version: 2402.0.0.1 } }
seal: { cleanup: [temp, windows-update-cache], generalize: false }   # not sysprepped
apps: ["7zip@24.08"]
vda:
  role: server
  installer: { path: ../files/VDAServerSetup.exe }
  version: '2402.0.100.629'
updates: { policy: all }
hardware: { memoryMiB: 16384, cpus: 4 }
os:
  edition: "Windows Server 2022 Datacenter"
  iso:
    path: ../files/windows.iso
  family: windows
metadata: { version: 2.0.0, name: plan-win-pvs }
`,
  },
  {
    name: "defaults written out",
    text: `${PVS}
`.replace("hardware:\n", "hardware:\n  diskGiB: 64\n  firmware: uefi\n  secureBoot: false\n  tpm: false\n")
      .replace("  edition:", "  locale: en-US\n  timezone: UTC\n  edition:")
      .replace("  policy: all\n", "  policy: all\n  maxRounds: 5\n  exclude: []\n")
      .replace("  targetDeviceName:", "  writeCache: device-ram-with-overflow-on-disk\n  ramCacheMiB: 256\n  shutdown: false\n  targetDeviceName:"),
  },
  {
    name: "a description and owners added",
    text: PVS.replace("  version: 2.0.0\n", "  version: 2.0.0\n  description: now with a description\n  owners: [someone-else]\n"),
  },
];

describe("the recipe hash depends on meaning, not on writing", () => {
  it("each variant parses to something that differs in text", () => {
    const texts = new Set(SAME_MEANING.map((v) => v.text));
    assert.equal(texts.size, SAME_MEANING.length);
  });
  for (const variant of SAME_MEANING.slice(1)) {
    it(`same hashes: ${variant.name}`, async () => {
      const base = await planOf(parse(PVS) as Recipe);
      const other = await planOf(parse(variant.text) as Recipe);
      assert.equal(other.hash, base.hash);
      assert.deepEqual(other.steps.map((s) => s.hash), base.steps.map((s) => s.hash));
    });
  }

  it("an omitted cpus hashes like cpus: 2", async () => {
    const omitted = edited(fixtureRecipe("plan-win-pvs"), (r) => delete r.hardware.cpus);
    const two = edited(fixtureRecipe("plan-win-pvs"), (r) => (r.hardware.cpus = 2));
    assert.equal((await planOf(omitted)).hash, (await planOf(two)).hash);
  });

  it("updates: none ignores maxRounds and exclude, like an omitted updates block", async () => {
    const none = edited(fixtureRecipe("plan-win-pvs"), (r) => (r.updates = { policy: "none", maxRounds: 9, exclude: ["KB1"] }));
    const omitted = edited(fixtureRecipe("plan-win-pvs"), (r) => delete r.updates);
    assert.equal((await planOf(none)).hash, (await planOf(omitted)).hash);
  });
});

describe("the recipe hash changes with everything that shapes the image", () => {
  const changes: { name: string; edit: (r: any) => void }[] = [
    { name: "cpus", edit: (r) => (r.hardware.cpus = 8) },
    { name: "recipe version", edit: (r) => (r.metadata.version = "2.0.1") },
    { name: "an app version", edit: (r) => (r.apps = ["7zip@24.09"]) },
    { name: "VDA options", edit: (r) => (r.vda.options = ["/enable_hdx_ports"]) },
    { name: "a pinned checksum", edit: (r) => (r.os.iso = { url: "https://example.test/w.iso", sha256: "a".repeat(64) }) },
    { name: "the URL of an unpinned input", edit: (r) => (r.os.iso = { url: "https://example.test/other.iso", unpinned: { reason: "testing unpinned" } }) },
    { name: "a check", edit: (r) => (r.checks = [{ name: "vda", shell: "powershell", run: "Get-Service BrokerAgent" }]) },
  ];
  for (const change of changes) {
    it(`changes with ${change.name}`, async () => {
      const base = await planOf(fixtureRecipe("plan-win-pvs"));
      assert.notEqual((await planOf(edited(fixtureRecipe("plan-win-pvs"), change.edit))).hash, base.hash);
    });
  }

  it("changes when the content of a local input file changes", async () => {
    const base = await planOf(fixtureRecipe("plan-win-pvs"), { hashFile: fakeHashFile() });
    const other = await planOf(fixtureRecipe("plan-win-pvs"), { hashFile: fakeHashFile({ "VDAServerSetup.exe": "patched" }) });
    assert.notEqual(other.hash, base.hash);
    const firstDifferent = other.steps.findIndex((s, i) => s.hash !== base.steps[i]!.hash);
    assert.equal(other.steps[firstDifferent]?.kind, "vda");
  });

  it("the same unpinned URL hashes the same, and its input says unpinned", async () => {
    const recipe = edited(fixtureRecipe("plan-win-pvs"), (r) => (r.os.iso = { url: "https://example.test/w.iso", unpinned: { reason: "testing unpinned" } }));
    const [a, b] = [await planOf(recipe), await planOf(recipe)];
    assert.equal(a.hash, b.hash);
    assert.equal(a.steps[0]?.inputs[0]?.unpinnedReason, "testing unpinned");
  });
});

describe("cumulative step hashes are the layer-cache key", () => {
  it("bumping the last app changes only the hashes from that app's step on", async () => {
    const before = edited(fixtureRecipe("plan-win-mcs"), (r) => (r.apps = ["lob-client@2.1", "7zip@24.08"]));
    const after = edited(before, (r) => (r.apps = ["lob-client@2.1", "7zip@24.09"]));
    const [a, b] = [await planOf(before), await planOf(after)];
    const bumped = a.steps.findIndex((s) => s.id.endsWith("app-7zip"));
    assert.equal(b.steps[bumped - 1]?.kind, "app", "7zip is the last app");
    a.steps.forEach((step, i) => {
      if (i < bumped) assert.equal(b.steps[i]!.hash, step.hash, `${step.id} keeps its cache key`);
      else assert.notEqual(b.steps[i]!.hash, step.hash, `${step.id} is rebuilt`);
      if (i > bumped) assert.equal(b.steps[i]!.contentHash, step.contentHash, `${step.id} itself did not change`);
    });
  });

  it("each hash is sha256(previous hash + content hash), starting from the empty string", async () => {
    const plan = await planOf(fixtureRecipe("plan-linux-mcs"));
    let previous = "";
    for (const step of plan.steps) {
      assert.equal(step.hash, sha256Hex(previous + step.contentHash));
      assert.equal(step.hash, chainHash(previous, step.contentHash));
      previous = step.hash;
    }
  });

  it("a local input is hashed once per plan even when several steps use it", async () => {
    const hashFile = fakeHashFile();
    await planOf(edited(fixtureRecipe("plan-win-pvs"), (r) => (r.vda.installer = { path: "../files/windows.iso" })), { hashFile });
    assert.equal(hashFile.calls.filter((p) => p.endsWith("windows.iso")).length, 1);
  });
});

describe("canonicalJson", () => {
  const cases: { name: string; a: unknown; b: unknown; same: boolean }[] = [
    { name: "key order does not matter", a: { b: 1, a: { d: 2, c: 3 } }, b: { a: { c: 3, d: 2 }, b: 1 }, same: true },
    { name: "undefined members are dropped", a: { a: 1, b: undefined }, b: { a: 1 }, same: true },
    { name: "array order matters", a: [1, 2], b: [2, 1], same: false },
    { name: "types matter", a: { v: "1" }, b: { v: 1 }, same: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(canonicalJson(c.a) === canonicalJson(c.b), c.same));
  }
  it("refuses values JSON cannot hold, naming where they are", () => {
    assert.throws(() => canonicalJson({ a: [1, Number.NaN] }), (e: Error) => e instanceof CanonicalJsonError && e.message.includes("$.a[1]"));
  });
});

describe("hashFileSha256", () => {
  it("streams a file to its sha256", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rebake-hash-"));
    try {
      await writeFile(join(dir, "f"), "abc");
      assert.equal(await hashFileSha256(join(dir, "f")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
      await assert.rejects(hashFileSha256(join(dir, "missing")), /ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
