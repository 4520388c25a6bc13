/**
 * The Pulumi entrypoint (Pulumi.yaml `main`). Pulumi's Node language host (@pulumi/pulumi
 * cmd/run/run.ts) imports an ES module entrypoint and refuses one with both a default export and
 * named exports, so this module has only its default export; the program is in program.ts.
 */
import { program } from "./program.ts";

export default () => program();
