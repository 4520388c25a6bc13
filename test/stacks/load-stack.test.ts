import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadStack, parseStack, StackConfigError, StackNotFoundError } from "../../src/stacks/load-stack.ts";
import { listStacks } from "../../src/stacks/list-stacks.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FILE = "stacks/Pulumi.t.yaml";

const PVS_STACK = `# a comment
config:
  rebake:target: pvs
  rebake:image:
    recipe: ws2022-pvs
    version: 3.2.0
  rebake:hypervisor:
    kind: xenorchestra
    url: https://xo.corp.example
    token: env:XO_TOKEN
  rebake:pvs:
    server: pvs01.corp.example
    executor: {kind: ssh, host: pvs01.corp.example, user: svc}
    accessMode: test
    sites:
      - name: HQ
        server: pvs01.corp.example
        collection: Apps
        store: {name: Store-HQ, location: smb://pvs01/vDisks}
`;

const MCS_STACK = `config:
  rebake:target: mcs
  rebake:image: {recipe: win11-mcs, version: 1.4.0, manifest: builds/w11.json}
  rebake:hypervisor: {kind: vsphere, server: vc.corp.example, datacenter: DC1, username: svc, password: env:VC_PASSWORD}
  rebake:mcs:
    goldenVm: {name: W11-GOLD, uuid: 4212a1f2-6b9c-3e8d-1f0a-2b3c4d5e6f70}
    cvad: {url: https://api.cloud.com, customerId: corp, siteId: 0b4e9c9a-5d35-4b0a-8f15-9d0c4e7c1a11, token: env:CVAD_TOKEN}
    catalogs:
      - {name: W11-Pooled, id: 3f1b5a2e-8c7d-4e1f-9a6b-2d4c8e0f1a3b, hostingUnit: HU1}
`;

function problemsOf(text: string) {
  try {
    parseStack(text, FILE, "t");
  } catch (error) {
    assert.ok(error instanceof StackConfigError, String(error));
    return error.problems;
  }
  assert.fail("expected a StackConfigError");
}

describe("stack config", () => {
  it("loads a PVS stack with defaults applied", () => {
    const config = parseStack(PVS_STACK, FILE, "t");
    assert.equal(config.target, "pvs");
    assert.equal(config.image.manifest, "out/ws2022-pvs/3.2.0/manifest.json");
    assert.equal(config.pvs?.port, 54321);
    assert.deepEqual(config.pvs?.executor, { kind: "ssh", host: "pvs01.corp.example", user: "svc", port: 22 });
    assert.equal(config.hypervisor.kind === "xenorchestra" && config.hypervisor.insecure, false);
  });

  const executors: [string, string, unknown][] = [
    ["winrm defaults to https on 5986", "{kind: winrm, host: pvs01.corp.example, user: svc, password: env:PVS_WINRM_PASSWORD}", { kind: "winrm", host: "pvs01.corp.example", user: "svc", password: "env:PVS_WINRM_PASSWORD", https: true, port: 5986 }],
    ["winrm over http defaults to 5985", "{kind: winrm, host: pvs01, user: svc, password: env:P, https: false}", { kind: "winrm", host: "pvs01", user: "svc", password: "env:P", https: false, port: 5985 }],
    ["local", "{kind: local}", { kind: "local" }],
  ];
  for (const [name, yaml, expected] of executors) {
    it(`PVS executor: ${name}`, () => {
      const config = parseStack(PVS_STACK.replace("{kind: ssh, host: pvs01.corp.example, user: svc}", yaml), FILE, "t");
      assert.deepEqual(config.pvs?.executor, expected);
    });
  }

  it("loads an MCS stack with catalog reboot defaults and the manifest path given", () => {
    const config = parseStack(MCS_STACK, FILE, "t");
    assert.equal(config.image.manifest, "builds/w11.json");
    assert.equal(config.mcs?.catalogs[0]?.reboot, "rolling");
    assert.equal(config.mcs?.catalogs[0]?.rebootWarningMinutes, 15);
    assert.equal(config.mcs?.catalogs[0]?.rebootDurationMinutes, 240);
  });

  const CVAD_LINE = "    cvad: {url: https://api.cloud.com, customerId: corp, siteId: 0b4e9c9a-5d35-4b0a-8f15-9d0c4e7c1a11, token: env:CVAD_TOKEN}\n";
  const viaPowerShell = (executor: string) => MCS_STACK.replace(CVAD_LINE, `    via: powershell\n    powershell: {adminAddress: ddc01.corp.example, executor: ${executor}}\n`);

  it("an MCS stack publishes through the CVAD REST API unless it says otherwise", () => {
    assert.equal(parseStack(MCS_STACK, FILE, "t").mcs?.via, "rest");
  });

  const mcsExecutors: [string, string, unknown][] = [
    ["ssh defaults to port 22", "{kind: ssh, host: ddc01.corp.example, user: svc}", { kind: "ssh", host: "ddc01.corp.example", user: "svc", port: 22 }],
    ["winrm defaults to https on 5986", "{kind: winrm, host: ddc01.corp.example, user: svc, password: env:DDC_WINRM_PASSWORD}", { kind: "winrm", host: "ddc01.corp.example", user: "svc", password: "env:DDC_WINRM_PASSWORD", https: true, port: 5986 }],
  ];
  for (const [name, yaml, expected] of mcsExecutors) {
    it(`MCS via powershell takes the Delivery Controller and the PVS executor's kinds: ${name}`, () => {
      const config = parseStack(viaPowerShell(yaml), FILE, "t");
      assert.equal(config.mcs?.via, "powershell");
      assert.deepEqual(config.mcs?.powershell, { adminAddress: "ddc01.corp.example", executor: expected });
    });
  }

  const viaCases: { name: string; text: string; rule: string; line: number; col: number; message: RegExp }[] = [
    { name: "via powershell without the powershell section", text: MCS_STACK.replace(CVAD_LINE, "    via: powershell\n"), rule: "stack-required", line: 6, col: 5, message: /mcs via powershell needs mcs\.powershell/ },
    { name: "via rest without the cvad section", text: MCS_STACK.replace(CVAD_LINE, ""), rule: "stack-required", line: 6, col: 5, message: /mcs via rest needs mcs\.cvad/ },
    { name: "a cvad section beside via powershell", text: MCS_STACK.replace(CVAD_LINE, `${CVAD_LINE}    via: powershell\n    powershell: {adminAddress: ddc01, executor: {kind: local}}\n`), rule: "stack-mcs-via", line: 7, col: 5, message: /mcs\.cvad is not used when mcs via is powershell/ },
    { name: "a literal WinRM password for the Delivery Controller", text: viaPowerShell("{kind: winrm, host: ddc01, user: svc, password: hunter2hunter2}"), rule: "stack-secret-literal", line: 8, col: 110, message: /secret reference/ },
    { name: "an unknown executor kind", text: viaPowerShell("{kind: psremoting}"), rule: "stack-enum", line: 8, col: 69, message: /local, ssh, winrm/ },
    { name: "an unknown way", text: MCS_STACK.replace(CVAD_LINE, `${CVAD_LINE}    via: soap\n`), rule: "stack-enum", line: 8, col: 10, message: /rest, powershell/ },
  ];
  for (const c of viaCases) {
    it(`refuses ${c.name}, located`, () => {
      const problems = problemsOf(c.text);
      const problem = problems.find((p) => p.rule === c.rule);
      assert.ok(problem, `no ${c.rule} in ${JSON.stringify(problems)}`);
      assert.match(problem.message, c.message);
      assert.deepEqual([problem.line, problem.col], [c.line, c.col]);
      assert.ok(!JSON.stringify(problems).includes("hunter2"), "a secret value leaked");
    });
  }

  it("loads the project's dev, test and prod stacks", async () => {
    assert.deepEqual(await listStacks(ROOT), ["dev", "test", "prod"]);
    const modes = [];
    for (const stack of ["dev", "test", "prod"]) modes.push((await loadStack(ROOT, stack)).pvs?.accessMode);
    assert.deepEqual(modes, ["maintenance", "test", "production"]);
  });

  it("names the missing stack file and the stacks there are", async () => {
    await assert.rejects(loadStack(ROOT, "staging"), (error: unknown) => error instanceof StackNotFoundError && /Pulumi\.staging\.yaml.*dev, test, prod/.test(error.message));
  });

  const cases: { name: string; edit: (text: string) => string; rule: string; line: number; col: number; message: RegExp; hint?: RegExp }[] = [
    { name: "a typo'd top-level key suggests the right one", edit: (t) => t.replace("rebake:target", "rebake:traget"), rule: "stack-unknown-key", line: 3, col: 3, message: /rebake:traget/, hint: /did you mean 'rebake:target'/ },
    { name: "a typo'd nested key suggests the right one", edit: (t) => t.replace("accessMode", "acessMode"), rule: "stack-unknown-key", line: 14, col: 5, message: /rebake:pvs\.acessMode/, hint: /did you mean 'accessMode'/ },
    { name: "a bad enum value suggests the nearest", edit: (t) => t.replace("accessMode: test", "accessMode: tset"), rule: "stack-enum", line: 14, col: 17, message: /maintenance, test, production/, hint: /did you mean 'test'/ },
    { name: "a version written as a number says to quote it", edit: (t) => t.replace("version: 3.2.0", "version: 3.2"), rule: "stack-type", line: 6, col: 14, message: /must be a string/, hint: /"3\.2\.0"/ },
    { name: "a literal credential is refused without echoing it", edit: (t) => t.replace("env:XO_TOKEN", "hunter2hunter2"), rule: "stack-secret-literal", line: 10, col: 12, message: /secret reference/, hint: /env:NAME/ },
    { name: "a malformed smb location shows the form", edit: (t) => t.replace("smb://pvs01/vDisks", "smb://pvs01"), rule: "stack-format", line: 19, col: 43, message: /smb:\/\/host/ },
    { name: "the target's section is required", edit: (t) => t.replace("target: pvs", "target: mcs"), rule: "stack-required", line: 3, col: 3, message: /needs rebake:mcs/ },
    { name: "a missing hypervisor kind is named", edit: (t) => t.replace("kind: xenorchestra", "flavour: xenorchestra"), rule: "stack-required", line: 8, col: 5, message: /needs a kind/ },
    { name: "a password in an smb store URL is refused without echoing it", edit: (t) => t.replace("smb://pvs01/vDisks", "smb://svc:hunter2hunter2@pvs01/vDisks"), rule: "stack-secret-literal", line: 19, col: 43, message: /URL holds a user and password/, hint: /env:NAME/ },
    { name: "a password in the hypervisor URL is refused without echoing it", edit: (t) => t.replace("url: https://xo.corp.example", "url: https://admin:hunter2hunter2@xo.corp.example"), rule: "stack-secret-literal", line: 9, col: 10, message: /URL holds a user and password/ },
    { name: "an anchor that aliases itself is a located problem, not a crash", edit: (t) => t.replace("accessMode: test", "accessMode: &loop [test, *loop]"), rule: "yaml-alias-cycle", line: 14, col: 30, message: /contain itself/ },
    { name: "a formula as a collection name is refused, in words", edit: (t) => t.replace("collection: Apps", "collection: '=HYPERLINK(\"http://x\")'"), rule: "stack-format", line: 18, col: 21, message: /must be a name that does not start with =/ },
    { name: "a formula as a store name is refused", edit: (t) => t.replace("name: Store-HQ", "name: '@SUM(1)'"), rule: "stack-format", line: 19, col: 23, message: /does not start with =, \+, -, @/ },
    { name: "a bad host name is described in words, not as a regular expression", edit: (t) => t.replace("server: pvs01.corp.example\n    executor", "server: pvs01/corp\n    executor"), rule: "stack-format", line: 12, col: 13, message: /must be a host name: letters, digits, dots and hyphens/ },
    { name: "a key without namespace says to add it", edit: (t) => t.replace("rebake:target", "target"), rule: "stack-unknown-key", line: 3, col: 3, message: /no namespace/, hint: /rebake:target/ },
  ];
  for (const c of cases) {
    it(`reports ${c.name} with file, position, value and fix`, () => {
      const problems = problemsOf(c.edit(PVS_STACK));
      const problem = problems.find((p) => p.rule === c.rule);
      assert.ok(problem, `no ${c.rule} in ${JSON.stringify(problems)}`);
      assert.equal(problem.file, FILE);
      assert.deepEqual([problem.line, problem.col], [c.line, c.col]);
      assert.match(problem.message, c.message);
      if (c.hint) assert.match(problem.hint ?? "", c.hint);
      assert.ok(!JSON.stringify(problems).includes("hunter2"), "a secret value leaked");
    });
  }

  it("collects every problem of a file at once", () => {
    const text = PVS_STACK.replace("rebake:target", "rebake:traget").replace("accessMode: test", "accessMode: tset").replace("pvs01.corp.example\n    executor", "pvs01.corp.example\n    port: 0\n    executor");
    const problems = problemsOf(text);
    assert.deepEqual(problems.map((p) => `${p.line}:${p.col} ${p.rule}`).sort(), ["13:11 stack-type", "15:17 stack-enum", "3:3 stack-unknown-key"]);
  });

  it("puts every problem into the error message, one per line", () => {
    assert.throws(() => parseStack(PVS_STACK.replace("rebake:target", "rebake:traget"), FILE, "t"), /stacks\/Pulumi\.t\.yaml:3:3  stack-unknown-key  unknown key rebake:traget .*did you mean 'rebake:target'/);
  });

  it("reports YAML syntax errors with their position", () => {
    const problems = problemsOf("config:\n  rebake:target: pvs\n  rebake:target: mcs\n");
    assert.deepEqual(problems.map((p) => [p.rule, p.line, p.col]), [["yaml-syntax", 3, 3]]);
  });
});
