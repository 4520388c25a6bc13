/**
 * The single entry point and exit point of the CLI. Each command lives in commands/<name>.ts and
 * exports `run`; they are imported lazily so `rebake validate` does not load the build runner.
 */
import { usageLines } from "./args.ts";
import { EXIT, UsageError, type CliIo, type Command } from "./io.ts";
import { ruleOf } from "./rule-of.ts";
import { safeIo } from "./safe-io.ts";

const COMMANDS: Readonly<Record<string, { readonly summary: string; readonly load: () => Promise<{ run: Command; HELP: string }> }>> = {
  validate: { summary: "check recipes and apps: schema and named rules", load: () => import("./commands/validate.ts") },
  plan: { summary: "the ordered steps a recipe turns into", load: () => import("./commands/plan.ts") },
  hash: { summary: "the content address of a recipe and of each step", load: () => import("./commands/hash.ts") },
  diff: { summary: "what changes in the image between two recipes", load: () => import("./commands/diff.ts") },
  build: { summary: "build, capture and verify a golden image", load: () => import("./commands/build.ts") },
  verify: { summary: "boot a captured artifact and run the recipe's checks", load: () => import("./commands/verify.ts") },
  cache: { summary: "list or prune the layer and download caches", load: () => import("./commands/cache.ts") },
  version: { summary: "write a PVS build as a vDisk version (.avhdx) of an earlier build", load: () => import("./commands/version.ts") },
  sync: { summary: "copy the stack's vDisk to every PVS site store (skip, delta or full)", load: () => import("./commands/sync.ts") },
  devices: { summary: "check PVS device manifests (MAC, name, collection, site, image)", load: () => import("./commands/devices.ts") },
  boot: { summary: "the PVS boot settings of each site: PXE checklist, bootstrap servers, boot ISO", load: () => import("./commands/boot.ts") },
  publish: { summary: "publish the version a stack pins (Pulumi)", load: () => import("./commands/publish.ts") },
  promote: { summary: "pin a verified, published version in the next stack", load: () => import("./commands/promote.ts") },
  rollback: { summary: "pin the version a stack ran before", load: () => import("./commands/rollback.ts") },
  status: { summary: "which version each stack pins, built when, verified or not", load: () => import("./commands/status.ts") },
};

/** Every command name, for tests that must cover them all. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: rebake <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nEvery command takes --json and --help.\n`;
}

export async function main(argv: readonly string[], rawIo: CliIo): Promise<number> {
  const io = safeIo(rawIo);
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`rebake: unknown command '${name}'\n\n${usage()}`);
    return EXIT.usage;
  }
  const loaded = await command.load();
  try {
    return await loaded.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`rebake ${name}: ${error.message}\n${usageLines(loaded.HELP)}\nrun 'rebake ${name} --help' for every option\n`);
      return EXIT.usage;
    }
    if (io.signal.aborted) return EXIT.interrupted;
    // The user sees a rule id and words, never a class name; the stack only when asked for.
    const e = error as Error;
    io.stderr(`rebake ${name}: ${ruleOf(e)}  ${e.message}\n`);
    if (io.env.REBAKE_DEBUG) io.stderr(`${e.stack}\n`);
    return EXIT.failed;
  }
}

function processIo(): CliIo {
  const controller = new AbortController();
  let signals = 0;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      // First signal: cancel and let cleanup unwind. Second: the user insists.
      if (++signals > 1) process.exit(EXIT.interrupted);
      controller.abort(new Error(`interrupted by ${sig}`));
    });
  }
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    isTty: Boolean(process.stdout.isTTY) && !process.env.CI,
    signal: controller.signal,
  };
}

const invokedDirectly = process.argv[1] && /(?:main\.ts|rebake(?:\.js)?)$/.test(process.argv[1]);
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2), processIo());
}
