import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pinVersion, pinVersionText } from "../../src/stacks/pin-version.ts";
import { StackConfigError } from "../../src/stacks/load-stack.ts";

const STACK = `# prod: reviewed pins only
config:
  rebake:target: pvs
  rebake:image:
    recipe: ws2022-pvs
    # promote edits the next line
    version: VERSION   # pinned
  rebake:hypervisor: {kind: qemu}
  rebake:pvs:
    server: pvs01
    executor: {kind: local}
    accessMode: production
    sites: [{name: HQ, server: pvs01, collection: Apps, store: {name: S, location: /srv/store}}]
`;

describe("pin version", () => {
  const styles = [
    { name: "plain", written: "3.0.2", expected: "3.1.0" },
    { name: "double-quoted", written: '"3.0.2"', expected: '"3.1.0"' },
    { name: "single-quoted", written: "'3.0.2'", expected: "'3.1.0'" },
  ];
  for (const style of styles) {
    it(`changes only the ${style.name} version scalar, keeping comments and layout`, () => {
      const change = pinVersionText(STACK.replace("VERSION", style.written), "stacks/Pulumi.prod.yaml", "prod", "3.1.0");
      assert.equal(change.from, "3.0.2");
      assert.equal(change.text, STACK.replace("VERSION", style.expected));
    });
  }

  it("refuses a version the stack rules reject, writing nothing", () => {
    assert.throws(() => pinVersionText(STACK.replace("VERSION", "3.0.2"), "f", "prod", "latest"), StackConfigError);
  });

  it("rewrites the file atomically, leaving no temp file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rebake-pin-"));
    try {
      await mkdir(join(dir, "stacks"));
      const path = join(dir, "stacks", "Pulumi.prod.yaml");
      await writeFile(path, STACK.replace("VERSION", "3.0.2"));
      const change = await pinVersion(path, "stacks/Pulumi.prod.yaml", "prod", "3.1.0");
      assert.deepEqual([change.from, change.to], ["3.0.2", "3.1.0"]);
      assert.equal(await readFile(path, "utf8"), STACK.replace("VERSION", "3.1.0"));
      assert.deepEqual(await readdir(join(dir, "stacks")), ["Pulumi.prod.yaml"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
