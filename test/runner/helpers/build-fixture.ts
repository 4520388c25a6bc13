/**
 * A small PVS plan (OS install, two apps, seal) with real input files in a temp dir, and build
 * dependencies that use the real download and layer caches with the recording fakes.
 */
import { createHash } from "node:crypto";
import { mkdtemp, mkdir, rm, writeFile, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DownloadCache } from "../../../src/cache/download-cache.ts";
import { LayerCache } from "../../../src/cache/layer-cache.ts";
import { sha256File } from "../../../src/util/hash-file.ts";
import type { Recipe } from "../../../src/recipe/model.ts";
import type { GuestCommand, Plan, PlanStep } from "../../../src/recipe/plan-model.ts";
import type { BuildDeps, BuildRequest } from "../../../src/runner/build.ts";
import type { BuildEvent } from "../../../src/runner/events.ts";
import { createFakes, type FakeOptions, type Fakes } from "./fakes.ts";
import assert from "node:assert/strict";
import { StepsFailedError } from "../../../src/runner/run-steps.ts";

export const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

export interface Fixture {
  readonly root: string;
  readonly outDir: string;
  readonly cacheDir: string;
  readonly tempRoot: string;
  readonly recipe: Recipe;
  /** The plan; `lastApp` changes only the last app's command (and so its hash and the seal's). */
  plan(options?: { readonly lastApp?: string; readonly timeoutSeconds?: number }): Plan;
  deps(fakes: Pick<Fakes, "driver">): BuildDeps;
  request(plan: Plan, extra?: Partial<BuildRequest>): BuildRequest & { readonly events: BuildEvent[] };
  dispose(): Promise<void>;
}

const command = (text: string, timeoutSeconds = 60): GuestCommand => ({ shell: "sh", command: text, successCodes: [0], rebootCodes: [], timeoutSeconds });

export async function createFixture(): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), "rebake-runner-"));
  const inputs = join(root, "inputs");
  await mkdir(inputs);
  const iso = join(inputs, "testos.iso");
  const appA = join(inputs, "app-a.tar");
  const appB = join(inputs, "app-b.tar");
  await writeFile(iso, "iso image");
  await writeFile(appA, "app a payload");
  await writeFile(appB, "app b payload");
  const outDir = join(root, "out");
  const cacheDir = join(root, "cache");
  const tempRoot = join(root, "tmp");
  await mkdir(tempRoot);
  const recipe: Recipe = {
    metadata: { name: "demo", version: "1.0.0" },
    os: { family: "linux", iso: { path: iso } },
    hardware: { firmware: "bios", diskGiB: 2, memoryMiB: 512, cpus: 1 },
    target: { kind: "pvs", vdiskName: "demo-vdisk", targetDevice: { version: "1", installer: { path: appB } } },
  };
  const fixture: Fixture = {
    root,
    outDir,
    cacheDir,
    tempRoot,
    recipe,
    plan(options = {}) {
      const specs: Omit<PlanStep, "hash" | "contentHash">[] = [
        { id: "01-os", kind: "os-install", title: "Install the OS", reason: "first", reboot: "never", inputs: [{ name: "test OS ISO", source: { path: iso }, resolvedPath: iso }], commands: [] },
        { id: "02-app-a", kind: "app", title: "Install app-a", reason: "apps", reboot: "never", uploadDir: "/var/tmp/rebake/a", inputs: [{ name: "app-a", source: { path: appA }, resolvedPath: appA }], commands: [command("install-a", options.timeoutSeconds)] },
        { id: "03-app-b", kind: "app", title: "Install app-b", reason: "apps", reboot: "if-required", inputs: [{ name: "app-b", source: { path: appB }, resolvedPath: appB }], commands: [command(options.lastApp ?? "install-b", options.timeoutSeconds)] },
        { id: "04-seal", kind: "seal", title: "Seal", reason: "last", reboot: "never", inputs: [], commands: [command("seal")] },
      ];
      let cumulative = "";
      const steps = specs.map((s): PlanStep => {
        const contentHash = sha(JSON.stringify(s));
        cumulative = sha(cumulative + contentHash);
        return { ...s, contentHash, hash: cumulative };
      });
      return { recipe: { name: "demo", version: "1.0.0", file: join(root, "demo.yaml") }, family: "linux", target: "pvs", hash: cumulative, steps, warnings: [] };
    },
    deps(fakes) {
      return {
        driver: fakes.driver,
        downloads: new DownloadCache(join(cacheDir, "downloads")),
        layers: new LayerCache(join(cacheDir, "layers")),
        answerMedia: async (_recipe, { outPath }) => writeFile(outPath, "answers"),
        capture: async (source, outPath) => {
          await copyFile(source.path, outPath);
          return { size: 5, sha256: await sha256File(outPath) };
        },
        toolVersions: async () => ({ qemu: "fake", node: process.version }),
        resolveSecret: (ref) => `secret-of-${ref}`,
        tempRoot,
      };
    },
    request(plan, extra = {}) {
      const events: BuildEvent[] = [];
      return { plan, recipe, outDir, signal: new AbortController().signal, emit: (e) => events.push(e), bootTimeoutMs: 5_000, installTimeoutMs: 5_000, ...extra, events };
    },
    dispose: () => rm(root, { recursive: true, force: true }),
  };
  return fixture;
}

export { createFakes, type FakeOptions };

/** Runs `body` with a fresh fixture, removed afterwards whatever happens. */
export async function withFixture(body: (f: Fixture) => Promise<void>): Promise<void> {
  const fixture = await createFixture();
  try {
    await body(fixture);
  } finally {
    await fixture.dispose();
  }
}

/** The error a build failed with (the step's own, unwrapped); fails the test if it succeeded. */
export async function buildFailure(run: Promise<unknown>): Promise<Error> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof StepsFailedError, `expected the build to fail, got ${String(error)}`);
  return error.error;
}
