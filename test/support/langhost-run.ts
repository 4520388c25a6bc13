/**
 * Runs the project's Pulumi entrypoint the way Pulumi's Node language host does, under mocks, in
 * its own process: `node --import tsx test/support/langhost-run.ts <entry> <root> <stack> <out.json>`.
 *
 * It starts the SDK's own loader, @pulumi/pulumi cmd/run (what the language host
 * `pulumi-language-nodejs` runs): run.js imports an ESM entrypoint and refuses a module with both a
 * default export and named exports; a failing program exits non-zero with its error on stderr. Pulumi.yaml sets `typescript: false` and
 * `nodeargs: --import tsx`, which this process mirrors (no PULUMI_NODEJS_TYPESCRIPT, tsx loaded).
 *
 * Writes every registered resource, with the resources it waits for (dependsOn) and the
 * resources each input comes from (outputs of other resources), to <out.json>.
 */
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { recordingMocks, recordDependencies } from "./pulumi-mocks.ts";

const [entry, root, stack, out] = process.argv.slice(2);
if (!entry || !root || !stack || !out) throw new Error("usage: langhost-run.ts <entry> <root> <stack> <out.json>");

const { mocks, registered } = recordingMocks((inputs) => ({ ...inputs }));
await pulumi.runtime.setMocks(mocks, "rebake", stack);
const dependencies = recordDependencies();

// The language host starts `node <nodeargs> @pulumi/pulumi/cmd/run --monitor=<addr> ... <program>`;
// with mocks set first, the SDK talks to the mock monitor instead of the address.
process.argv = [process.argv[0]!, process.argv[1]!, "--monitor=mock", "--project=rebake", `--stack=${stack}`, `--pwd=${root}`, entry];
process.on("exit", () => {
  writeFileSync(out, JSON.stringify(registered.map((r) => ({ ...r, ...dependencies.of(r.type, r.name) })), null, 2));
});
createRequire(import.meta.url)("@pulumi/pulumi/cmd/run");
