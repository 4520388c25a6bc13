import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PVS_CMDLETS } from "../support/pvs-cmdlets.ts";

describe("PVS cmdlet table (docs/cmdlets.md)", () => {
  for (const spec of PVS_CMDLETS) {
    it(`${spec.name}: cites its section and names each parameter and alias once`, () => {
      assert.equal(spec.section, `## ${spec.name}`);
      const names = spec.parameters.flatMap((param) => [param.name, ...(param.aliases ?? [])].map((n) => n.toLowerCase()));
      assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), []);
    });

    it(`${spec.name}: its required groups and resolutions name its own parameters`, () => {
      const declared = new Set(spec.parameters.map((param) => param.name));
      const referenced = [...(spec.requiredOneOf ?? []).flat(), ...Object.entries(spec.resolutions ?? {}).flatMap(([name, groups]) => [name, ...groups.flat()]), ...(spec.objectParameter ? [spec.objectParameter] : [])];
      assert.deepEqual(referenced.filter((name) => !declared.has(name)), []);
    });
  }
});
