/**
 * Checks a manifest against schemas/build-manifest.schema.json (generated from model.ts), so what
 * a build writes is exactly what CI tools and editors are told to expect.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";

const SCHEMA_URL = new URL("../../schemas/build-manifest.schema.json", import.meta.url);

let compiled: ValidateFunction | undefined;

/** Every schema violation as `pointer: message`; empty when the manifest is valid. */
export function manifestSchemaErrors(manifest: unknown): string[] {
  compiled ??= new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(SCHEMA_URL, "utf8")) as object);
  if (compiled(manifest)) return [];
  return (compiled.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message ?? "invalid"}`);
}
