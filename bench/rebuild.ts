/**
 * Rebuild after changing only the last app, against a `--no-cache` full build of the demo recipe,
 * both for real under QEMU from the test OS ISO (scripts/build-testos.sh). Target: at most 0.15x.
 * Also the layer cache's bytes per committed step against the disk bytes the step wrote (its
 * layer file), without and with the saved VM memory state (target: at most 1.1x without it).
 *
 * In a temporary copy of the project: a cached build fills the layer cache (not timed: it is how
 * a cache gets warm), then the timed `--no-cache` full build, then the last app's install command
 * changes and the timed rebuild runs. Both timed builds run in the same warm process with the same
 * flags; verification is off for both (it boots the artifact, which is not part of building it).
 *
 * The demo's Linux target-device step reboots only when its package asks (the plan's default for
 * Linux). The same measurement with `targetDevice.reboot: always` follows and is reported as
 * `reboot_ratio`: what a target-device package that always needs a reboot costs a rebuild.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { placeTestOsIso } from "../test/support/testos-iso.ts";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { main as rebake } from "../src/cli/main.ts";
import type { CliIo } from "../src/cli/io.ts";
import type { BuildManifest } from "../src/manifest/model.ts";
import { LayerCache } from "../src/cache/layer-cache.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
export const DEMO_RECIPE = "recipes/linux-demo.yaml";
const ISO = join(root, "build/testos/rebake-testos.iso");
const LAST_APP = "apps/demo-motd.yaml";
const TARGET_RATIO = 0.15;
const TARGET_CACHE_RATIO = 1.1;

/** A copy of the demo project (recipe, apps) sharing the built test OS ISO, with its own cache. */
export async function demoProject(): Promise<{ readonly dir: string; readonly env: NodeJS.ProcessEnv }> {
  if (!existsSync(ISO)) throw new Error(`${ISO} is missing: run bash scripts/build-testos.sh first`);
  const dir = await mkdtemp(join(tmpdir(), "rebake-bench-"));
  await cp(join(root, DEMO_RECIPE), join(dir, DEMO_RECIPE));
  await cp(join(root, "apps"), join(dir, "apps"), { recursive: true });
  await placeTestOsIso(dir, ISO);
  return { dir, env: { ...process.env, REBAKE_CACHE_DIR: join(dir, "cache") } };
}

/** Runs `rebake build` in the project; returns its wall time and manifest, or throws with its output. */
export async function timedBuild(dir: string, env: NodeJS.ProcessEnv, out: string, flags: readonly string[]): Promise<{ readonly ms: number; readonly manifest: BuildManifest }> {
  let output = "";
  const io: CliIo = {
    stdout: (text) => void (output += text),
    stderr: (text) => void (output += text),
    cwd: dir,
    env,
    isTty: false,
    signal: new AbortController().signal,
  };
  const started = performance.now();
  const code = await rebake(["build", DEMO_RECIPE, "--out", out, "--no-verify", ...flags], io);
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`rebake build ${flags.join(" ")} exited with ${code}:\n${output}`);
  const manifest = JSON.parse(await readFile(join(dir, out, "manifest.json"), "utf8")) as BuildManifest;
  return { ms, manifest };
}

/** Changes only the last app: its install command gains a harmless extra, so its hash changes. */
export async function changeLastApp(dir: string, round: number): Promise<void> {
  await edit(dir, LAST_APP, /install\.sh"( && echo rebuilt \d+ >\/dev\/null)?\n/, `install.sh" && echo rebuilt ${round} >/dev/null\n`);
}

async function edit(dir: string, file: string, pattern: RegExp, replacement: string): Promise<void> {
  const text = await readFile(join(dir, file), "utf8");
  const changed = text.replace(pattern, replacement);
  if (changed === text) throw new Error(`${file} no longer matches ${pattern}: update the bench's edit`);
  await writeFile(join(dir, file), changed);
}

interface Measured {
  readonly full: Awaited<ReturnType<typeof timedBuild>>;
  readonly rebuild: Awaited<ReturnType<typeof timedBuild>>;
  readonly ratio: number;
}

/** Fills the cache, times a --no-cache build, changes the last app and times the rebuild. */
async function measure(dir: string, env: NodeJS.ProcessEnv, label: string, round: number): Promise<Measured> {
  const warm = await timedBuild(dir, env, `out-${label}-warm`, []);
  console.log(`[${label}] cache-filling build (not timed in the ratio): ${seconds(warm.ms)}`);
  const full = await timedBuild(dir, env, `out-${label}-full`, ["--no-cache"]);
  console.log(`[${label}] full --no-cache build: ${seconds(full.ms)}`);
  await changeLastApp(dir, round);
  const rebuild = await timedBuild(dir, env, `out-${label}-rebuild`, []);
  const cached = rebuild.manifest.steps.filter((s) => s.hash && s.cacheHit).map((s) => s.id);
  const ran = rebuild.manifest.steps.filter((s) => s.hash && !s.cacheHit).map((s) => s.id);
  console.log(`[${label}] rebuild after changing ${LAST_APP}: ${seconds(rebuild.ms)} (cached: ${cached.join(", ")}; ran: ${ran.join(", ")})`);
  for (const [name, m] of [["full", full.manifest], ["rebuild", rebuild.manifest]] as const) {
    const t = m.timings;
    const other = t.totalMs - t.inGuestMs - t.bootMs - t.captureMs;
    console.log(`  ${name}: total ${seconds(t.totalMs)}, in guest ${seconds(t.inGuestMs)}, booting ${seconds(t.bootMs)}, capture ${seconds(t.captureMs)}, the rest (VM start, checkpoints, state saves, manifest) ${seconds(other)}`);
    for (const s of m.steps) console.log(`    ${s.id.padEnd(28)} ${s.status.padEnd(7)} ${seconds(s.durationMs)}${s.why ? ` (${s.why})` : ""}`);
  }
  const ratio = rebuild.ms / full.ms;
  console.log(`[${label}] ratio ${ratio.toFixed(3)}`);
  return { full, rebuild, ratio };
}

/** Cache bytes per committed step over the disk bytes the steps wrote, without and with the memory state. */
async function cacheRatios(env: NodeJS.ProcessEnv): Promise<{ readonly withoutState: number; readonly withState: number; readonly stateMiB: number }> {
  const cache = new LayerCache(join(env.REBAKE_CACHE_DIR!, "layers"));
  const layers = await cache.list();
  let disk = 0;
  let all = 0;
  let state = 0;
  for (const layer of layers) {
    const marker = (await readFile(cache.markerPath(layer.hash))).length;
    disk += layer.diskBytes;
    all += layer.size + marker;
    state += layer.stateBytes;
    console.log(`  layer ${layer.stepId.padEnd(28)} disk ${mib(layer.diskBytes)}  state ${mib(layer.stateBytes)}  other ${mib(layer.size + marker - layer.diskBytes - layer.stateBytes)}`);
  }
  return { withoutState: (all - state) / disk, withState: all / disk, stateMiB: state / 2 ** 20 };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1).padStart(7)} MiB`;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function main(): Promise<number> {
  const { dir, env } = await demoProject();
  try {
    const demo = await measure(dir, env, "demo", 1);
    const cache = await cacheRatios(env);
    console.log(`cache bytes per committed step: ${cache.withoutState.toFixed(3)}x the disk bytes written without the memory state (target <= ${TARGET_CACHE_RATIO}), ${cache.withState.toFixed(3)}x with it (${cache.stateMiB.toFixed(1)} MiB of state in all)`);
    await edit(dir, DEMO_RECIPE, /\n  targetDevice:\n/, "\n  targetDevice:\n    reboot: always\n");
    const reboot = await measure(dir, env, "reboot-always", 2);
    console.log(`ratio ${demo.ratio.toFixed(3)} (target <= ${TARGET_RATIO}); with a target-device reboot ${reboot.ratio.toFixed(3)}`);
    console.log(
      `RESULT rebuild ratio=${demo.ratio.toFixed(3)} full_s=${(demo.full.ms / 1000).toFixed(1)} rebuild_s=${(demo.rebuild.ms / 1000).toFixed(1)} reboot_ratio=${reboot.ratio.toFixed(3)} cache_ratio=${cache.withoutState.toFixed(3)} cache_ratio_with_state=${cache.withState.toFixed(3)}`,
    );
    return demo.ratio <= TARGET_RATIO && cache.withoutState <= TARGET_CACHE_RATIO ? 0 : 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
