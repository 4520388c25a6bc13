import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildSecretRefs, stepSecretRefs } from "../../src/recipe/secret-refs.ts";
import { stringLeaves } from "../../src/recipe/string-leaves.ts";
import { edited, fixtureRecipe, planOf } from "./plan-fixtures.ts";

const schema = (name: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(`../../schemas/${name}`, import.meta.url)), "utf8"));

describe("buildSecretRefs", () => {
  it("lists the product key and every command's secret environment, each once", async () => {
    const recipe = edited(fixtureRecipe("plan-win-mcs"), (r) => {
      r.os.productKey = "pulumi:win:productKey";
      r.target.domainJoin.password = "pulumi:joinPassword";
    });
    const plan = await planOf(recipe);
    assert.deepEqual(buildSecretRefs(recipe, plan), ["pulumi:win:productKey", "pulumi:joinPassword"]);
    const join = plan.steps.find((s) => s.kind === "domain-join")!;
    assert.deepEqual(stepSecretRefs(join), ["pulumi:joinPassword"]);
  });

  it("a reference used twice is listed once", async () => {
    const recipe = edited(fixtureRecipe("plan-win-mcs"), (r) => (r.os.productKey = "env:JOIN_PASSWORD"));
    assert.deepEqual(buildSecretRefs(recipe, await planOf(recipe)), ["env:JOIN_PASSWORD"]);
  });

  it("a recipe without secrets has none", async () => {
    const recipe = fixtureRecipe("plan-win-pvs");
    assert.deepEqual(buildSecretRefs(recipe, await planOf(recipe)), []);
  });

  // A new secret field in the model must reach buildSecretRefs, or the build would resolve it only
  // when a VM already exists: this names every place the schemas allow a SecretRef.
  it("covers every field the schemas declare a secret reference", () => {
    const places = (name: string) => stringLeaves(schema(name)).filter((leaf) => leaf.text === "#/definitions/SecretRef").map((leaf) => leaf.pointer).sort();
    assert.deepEqual(places("recipe.schema.json"), ["/definitions/DomainJoin/properties/password/$ref", "/definitions/OsSpec/properties/productKey/$ref"]);
    assert.deepEqual(places("app.schema.json"), []);
  });
});
