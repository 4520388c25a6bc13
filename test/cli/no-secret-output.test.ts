/**
 * Known secrets are planted in every place a recipe, app or stack can hold one; no output of any
 * command (text, Markdown, JSON, stderr) contains one. Whatever slips past validation is masked
 * at the output boundary: a plan carrying secrets, build events, step logs and manifests.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIo } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { safeIo } from "../../src/cli/safe-io.ts";
import { createReporter } from "../../src/cli/progress/reporter.ts";
import { writeJsonAtomic } from "../../src/manifest/write-manifest.ts";
import { planProject } from "../../src/recipe/plan-project.ts";
import { renderPlan } from "../../src/recipe/render-plan.ts";
import { StepLog } from "../../src/runner/step-log.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));

/** One distinct value per place, so a leak names its source. */
const S = {
  isoUrl: "IsoUrlPass-1111",
  vdaUrl: "VdaUrlPass-2222",
  appUrl: "AppUrlPass-3333",
  msi: "MsiProp-4444",
  netUser: "NetUser-5555",
  chpasswd: "Chpass-6666",
  param: "ParamPw-7777",
  option: "OptionPw-8888",
  vdaOption: "VdaOpt-9999",
  seal: "SealPw-1212",
  check: "CheckPw-1313",
  targetDevice: "TdPw-1414",
  appInstall: "AppInst-1515",
  storeUrl: "StoreUrl-1616",
  storeLiteral: "StoreLit-1717",
  hypervisorToken: "XoToken-1818",
  guestPassword: "Guest-1919",
  hypervisorUrl: "HvUrl-2020",
} as const;
const PLANTED = Object.values(S);

function assertClean(text: string, where: string): void {
  for (const secret of PLANTED) assert.ok(!text.includes(secret), `${where} printed ${secret}:\n${text}`);
}

async function run(cwd: string, args: readonly string[]): Promise<string> {
  const chunks: string[] = [];
  const io: CliIo = { stdout: (t) => void chunks.push(t), stderr: (t) => void chunks.push(t), cwd, env: {}, isTty: false, signal: new AbortController().signal };
  await main(args, io);
  return chunks.join("");
}

describe("no secret reaches any output", () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), "rebake-secrets-"));
    await cp(join(repo, "test/fixtures/valid"), cwd, { recursive: true });
    await mkdir(join(cwd, "stacks"));
    await mkdir(join(cwd, "devices"));
    const clean = await readFile(join(cwd, "recipes/linux-pvs.yaml"), "utf8");
    await writeFile(join(cwd, "recipes/clean.yaml"), clean.replace("name: linux-pvs", "name: clean"));
    const planted = clean
      .replace("    path: ../files/test-os.iso\n", `    url: https://builder:${S.isoUrl}@mirror.example/test-os.iso\n`)
      .replace("    path: ../files/linux-vda.deb\n", `    url: https://svc:${S.vdaUrl}@dl.example/vda.deb\n`)
      .replace("  role: server\n", `  role: server\n  options: ["--admin-password ${S.vdaOption}"]\n`)
      .replace("    install: dpkg -i {file}\n", `    install: dpkg -i {file} && /opt/ctx/register --password ${S.targetDevice}\n`)
      .replace("  cleanup: [temp, logs]\n", `  cleanup: [temp, logs]\n  scripts:\n    - name: wipe\n      shell: sh\n      run: echo 'root:${S.seal}' | chpasswd\n`)
      .replace("    run: command -v hello-tool\n", `    run: net user checker ${S.check} /add\n`)
      .replace("checks:\n", [
        "steps:",
        "  - name: agent",
        "    after: apps",
        "    shell: powershell",
        `    run: msiexec /i agent.msi /qn PROXY_PASSWORD=${S.msi}; net user svc ${S.netUser} /add`,
        "  - name: users",
        "    after: apps",
        "    shell: sh",
        `    run: echo "svc:${S.chpasswd}" | chpasswd && agent --password ${S.option}`,
        "  - name: ps",
        "    after: apps",
        "    shell: powershell",
        `    run: Set-LocalUser -Name svc -Password ${S.param}; $p = $env:SVC | ConvertTo-SecureString -AsPlainText -Force`,
        "checks:",
        "",
      ].join("\n"));
    await writeFile(join(cwd, "recipes/linux-pvs.yaml"), planted);
    const app = await readFile(join(cwd, "apps/hello-tool.yaml"), "utf8");
    await writeFile(join(cwd, "apps/hello-tool.yaml"), app
      .replace("  path: ../files/hello-tool.sh\n", `  url: https://dl:${S.appUrl}@repo.example/hello-tool.sh\n`)
      .replace("command: install -m 0755 {file} /usr/local/bin/hello-tool", `command: install -m 0755 {file} /usr/local/bin/hello-tool && DB_PASSWORD=${S.appInstall} setup`));
    const stack = (await readFile(join(repo, "stacks/Pulumi.dev.yaml"), "utf8"))
      .replace("recipe: ws2022-pvs", "recipe: linux-pvs")
      .replace("url: https://xo-dev.corp.example", `url: https://admin:${S.hypervisorUrl}@xo-dev.corp.example`)
      .replace("token: env:XO_TOKEN", `token: ${S.hypervisorToken}`)
      .replace("password: env:WINRM_PASSWORD", `password: ${S.guestPassword}`)
      .replace("location: smb://pvs-dev01.corp.example/vDisks", `location: smb://svc:${S.storeUrl}@pvs-dev01.corp.example/vDisks`)
      .replace("password: env:PVS_STORE_PASSWORD", `password: ${S.storeLiteral}`);
    await writeFile(join(cwd, "stacks/Pulumi.dev.yaml"), stack);
    await writeFile(join(cwd, "devices/lab.csv"), "mac,name,collection,site,image\n00-11-22-33-44-55,PC01,WS2022-Apps-Dev,Lab,linux-pvs\n");
  });
  after(() => rm(cwd, { recursive: true, force: true }));

  const commands: readonly (readonly string[])[] = [
    ["validate"], ["validate", "--json"], ["validate", "recipes", "apps"],
    ["plan", "recipes/linux-pvs.yaml"], ["plan", "recipes/linux-pvs.yaml", "--format", "markdown"], ["plan", "recipes/linux-pvs.yaml", "--json"],
    ["hash", "recipes/linux-pvs.yaml"], ["hash", "recipes/linux-pvs.yaml", "--json"],
    ["diff", "recipes/clean.yaml", "recipes/linux-pvs.yaml"], ["diff", "recipes/clean.yaml", "recipes/linux-pvs.yaml", "--format", "markdown"], ["diff", "recipes/clean.yaml", "recipes/linux-pvs.yaml", "--json"],
    ["build", "recipes/linux-pvs.yaml", "--json"],
    ["boot", "--stack", "dev"], ["boot", "--stack", "dev", "--json"],
    ["sync", "--stack", "dev", "--json"], ["publish", "--stack", "dev"], ["rollback", "--stack", "dev"], ["status"], ["status", "--json"],
    ["devices", "validate", "devices/lab.csv", "--stack", "dev"], ["devices", "validate", "devices/lab.csv", "--stack", "dev", "--json"],
  ];
  for (const args of commands) {
    it(`rebake ${args.join(" ")}`, async () => assertClean(await run(cwd, args), `rebake ${args.join(" ")}`));
  }

  it("a plan that carries secrets past validation prints none of them, in any format", async () => {
    const planned = await planProject("test/fixtures/valid/recipes/linux-pvs.yaml", { cwd: repo });
    assert.ok(planned.ok, "the valid fixture plans");
    const leaky = {
      ...planned.plan,
      steps: planned.plan.steps.map((step) => ({
        ...step,
        commands: step.commands.map((c) => ({ ...c, command: `${c.command}; curl https://u:${S.isoUrl}@h/x; msiexec PROXY_PASSWORD=${S.msi}; net user a ${S.netUser} /add; x --password "${S.option}"` })),
      })),
    };
    for (const format of ["text", "markdown", "json"] as const) {
      const out: string[] = [];
      safeIo({ stdout: (t) => void out.push(t), stderr: () => undefined, cwd, env: {}, isTty: false, signal: new AbortController().signal }).stdout(renderPlan(leaky, format));
      assertClean(out.join(""), `plan --format ${format}`);
    }
  });

  it("build events, step logs and manifests mask what they are handed", async () => {
    const leak = `curl https://u:${S.isoUrl}@h/x PROXY_PASSWORD=${S.msi} -Password '${S.param}' echo "a:${S.chpasswd}" | chpasswd`;
    for (const mode of ["json", "plain"] as const) {
      const out: string[] = [];
      const reporter = createReporter({ mode, write: safeIo({ stdout: (t) => void out.push(t), stderr: () => undefined, cwd, env: {}, isTty: false, signal: new AbortController().signal }).stdout });
      reporter.emit({ type: "log", at: new Date(0).toISOString(), message: leak });
      reporter.finish();
      assertClean(out.join(""), `build events (${mode})`);
    }
    const logPath = join(cwd, "step.log");
    const log = await StepLog.open(logPath, [S.guestPassword]);
    log.write(`${leak} and the resolved ${S.guestPassword}\n`);
    await log.close();
    assertClean(await readFile(logPath, "utf8"), "step log");
    const manifestPath = join(cwd, "manifest.json");
    await writeJsonAtomic(manifestPath, { inputs: [{ url: `https://u:${S.isoUrl}@h/x.iso` }], steps: [{ command: leak }] });
    assertClean(await readFile(manifestPath, "utf8"), "manifest");
  });
});
