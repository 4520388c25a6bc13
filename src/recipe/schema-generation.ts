import { createGenerator } from "ts-json-schema-generator";
import { join } from "node:path";

/** One JSON Schema generated from one root type. */
export interface SchemaTarget {
  readonly type: string;
  readonly source: string;
  readonly file: string;
  readonly id: string;
}

export const schemaTargets: readonly SchemaTarget[] = [
  { type: "Recipe", source: "src/recipe/model.ts", file: "schemas/recipe.schema.json", id: "https://rebake.dev/schemas/recipe.schema.json" },
  { type: "App", source: "src/recipe/model.ts", file: "schemas/app.schema.json", id: "https://rebake.dev/schemas/app.schema.json" },
  { type: "BuildManifest", source: "src/manifest/model.ts", file: "schemas/build-manifest.schema.json", id: "https://rebake.dev/schemas/build-manifest.schema.json" },
];

/** Generates the schema text for a target, exactly as committed under schemas/. */
export function generateSchema(root: string, target: SchemaTarget): string {
  const schema = createGenerator({
    path: join(root, target.source),
    tsconfig: join(root, "tsconfig.json"),
    type: target.type,
    skipTypeCheck: true,
    additionalProperties: false,
    discriminatorType: "open-api",
    sortProps: true,
  }).createSchema(target.type);
  return `${JSON.stringify({ $id: target.id, ...schema }, null, 2)}\n`;
}
