import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PlanStep, StepKind } from "../../src/recipe/plan-model.ts";
import { PlanError, PlanInputError } from "../../src/recipe/plan.ts";
import { UnknownCleanupError } from "../../src/recipe/seal-commands.ts";
import { edited, fixtureRecipe, planOf } from "./plan-fixtures.ts";

const kinds = (steps: readonly PlanStep[]) => steps.map((step) => step.kind);
const step = (steps: readonly PlanStep[], kind: StepKind) => {
  const found = steps.find((s) => s.kind === kind);
  assert.ok(found, `no ${kind} step`);
  return found;
};

describe("createPlan orders the steps as seed 000 says", () => {
  const cases: { recipe: string; kinds: StepKind[]; apps: string[] }[] = [
    {
      recipe: "plan-win-mcs",
      kinds: ["os-install", "updates", "driver", "hypervisor-tools", "app", "app", "app", "custom", "vda", "domain-join", "seal", "shutdown"],
      apps: ["7zip", "vcredist", "lob-client"],
    },
    {
      recipe: "plan-win-pvs",
      kinds: ["os-install", "updates", "app", "vda", "target-device", "seal"],
      apps: ["7zip"],
    },
    {
      recipe: "plan-linux-mcs",
      kinds: ["os-install", "custom", "updates", "hypervisor-tools", "app", "vda", "seal", "shutdown"],
      apps: ["htop"],
    },
  ];
  for (const c of cases) {
    it(`${c.recipe}: ${c.kinds.join(" -> ")}`, async () => {
      const plan = await planOf(fixtureRecipe(c.recipe));
      assert.deepEqual(kinds(plan.steps), c.kinds);
      assert.deepEqual(plan.steps.filter((s) => s.kind === "app").map((s) => s.installs?.name), c.apps);
    });
  }

  it("PVS: VDA, then target-device software, then seal, and the seal is the last step", async () => {
    const plan = await planOf(fixtureRecipe("plan-win-pvs"));
    const at = (kind: StepKind) => plan.steps.findIndex((s) => s.kind === kind);
    assert.ok(at("vda") < at("target-device") && at("target-device") < at("seal"));
    assert.equal(plan.steps.at(-1)?.kind, "seal");
    assert.match(step(plan.steps, "target-device").reason, /^PVS: target-device software after the VDA/);
    assert.ok(!kinds(plan.steps).includes("shutdown") && !kinds(plan.steps).includes("domain-join"));
  });

  it("MCS: the seal is followed by a shutdown, which ends the plan", async () => {
    for (const name of ["plan-win-mcs", "plan-linux-mcs"]) {
      const plan = await planOf(fixtureRecipe(name));
      assert.deepEqual(kinds(plan.steps).slice(-2), ["seal", "shutdown"], name);
      assert.deepEqual(plan.steps.at(-1)?.commands, [], "the runner powers the VM off itself");
    }
  });

  it("updates policy none (or no updates block) plans no updates step", async () => {
    const recipe = edited(fixtureRecipe("plan-win-pvs"), (r) => (r.updates = { policy: "none", maxRounds: 3 }));
    assert.ok(!kinds((await planOf(recipe)).steps).includes("updates"));
  });
});

describe("createPlan fills in the guest commands", () => {
  it("numbers ids, gives each step its own upload directory and fills {file}", async () => {
    const plan = await planOf(fixtureRecipe("plan-win-mcs"));
    assert.deepEqual(
      plan.steps.map((s) => s.id),
      [
        "01-os-install", "02-updates", "03-driver-netdrv", "04-hypervisor-tools-vmware-tools", "05-app-7zip",
        "06-app-vcredist", "07-app-lob-client", "08-custom-disable-store-auto-updates", "09-vda", "10-domain-join",
        "11-seal", "12-shutdown",
      ],
    );
    const app = plan.steps[4]!;
    assert.equal(app.uploadDir, "C:\\Windows\\Temp\\rebake\\05-app-7zip");
    assert.equal(app.inputs[0]?.guestPath, "C:\\Windows\\Temp\\rebake\\05-app-7zip\\7z-24.08.msi");
    // The cmd install runs inside the Windows reboot-check wrapper (PowerShell), quoted for it.
    assert.equal(app.commands[0]?.shell, "powershell");
    assert.ok(app.commands[0]?.command.endsWith(`exit (Invoke-RebakeInstall -CommandLine 'msiexec /i "C:\\Windows\\Temp\\rebake\\05-app-7zip\\7z-24.08.msi" /qn /norestart')\n`));
    assert.deepEqual(app.commands[0]?.rebootCodes, [3010]);
    const linux = await planOf(fixtureRecipe("plan-linux-mcs"));
    assert.equal(linux.steps[1]?.commands[0]?.command, "sh '/var/tmp/rebake/02-custom-motd/motd.sh'");
  });

  it("leaves no placeholder unfilled", async () => {
    for (const name of ["plan-win-mcs", "plan-win-pvs", "plan-linux-mcs"]) {
      const plan = await planOf(fixtureRecipe(name));
      for (const s of plan.steps) for (const c of s.commands) assert.doesNotMatch(c.command, /\{(file|dir|name|version)\}/, `${name} ${s.id}`);
    }
  });

  const exitCodes: { name: string; recipe: string; kind: StepKind; success: number[]; reboot: number[]; rerun?: number[] }[] = [
    { name: "Windows app: 3010 means reboot", recipe: "plan-win-mcs", kind: "app", success: [0, 3010], reboot: [3010] },
    { name: "VDA: 3 means reboot and run again, 8 reboot", recipe: "plan-win-pvs", kind: "vda", success: [0, 3, 8], reboot: [3, 8], rerun: [3] },
    { name: "Windows updates: 3010 means reboot and search again", recipe: "plan-win-pvs", kind: "updates", success: [0, 3010], reboot: [3010], rerun: [3010] },
    { name: "Linux updates: 194 (sh's 8-bit exit 3010) when a reboot is required", recipe: "plan-linux-mcs", kind: "updates", success: [0, 194], reboot: [194], rerun: [194] },
  ];
  for (const c of exitCodes) {
    it(`exit codes: ${c.name}`, async () => {
      const command = step((await planOf(fixtureRecipe(c.recipe))).steps, c.kind).commands[0]!;
      assert.deepEqual(command.successCodes, c.success);
      assert.deepEqual(command.rebootCodes, c.reboot);
      assert.deepEqual(command.rerunCodes, c.rerun);
    });
  }

  describe("the target-device reboot", () => {
    // plan-linux-mcs made a PVS image: the same Linux recipe with the target-device package.
    const linuxPvs = (reboot?: string) =>
      edited(fixtureRecipe("plan-linux-mcs"), (r) => {
        r.target = { kind: "pvs", vdiskName: "linux-pvs", targetDevice: { version: "2402.0.0", installer: { path: "../files/pvs-target.deb" }, ...(reboot ? { reboot } : {}) } };
      });
    const windowsPvs = (reboot?: string) =>
      edited(fixtureRecipe("plan-win-pvs"), (r) => {
        if (reboot) r.target.targetDevice.reboot = reboot;
      });
    const cases: { name: string; recipe: () => ReturnType<typeof fixtureRecipe>; reboot: PlanStep["reboot"]; asksDistribution: boolean }[] = [
      { name: "Windows always reboots: the NIC filter driver binds at boot", recipe: () => windowsPvs(), reboot: "always", asksDistribution: false },
      { name: "Linux reboots when the package asks", recipe: () => linuxPvs(), reboot: "if-required", asksDistribution: true },
      { name: "Linux with reboot: always in the recipe", recipe: () => linuxPvs("always"), reboot: "always", asksDistribution: false },
      { name: "Windows with reboot: never in the recipe", recipe: () => windowsPvs("never"), reboot: "never", asksDistribution: false },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const device = step((await planOf(c.recipe())).steps, "target-device");
        assert.equal(device.reboot, c.reboot);
        const command = device.commands[0]!;
        assert.equal(command.command.includes("/var/run/reboot-required"), c.asksDistribution, command.command);
        if (c.asksDistribution) {
          assert.deepEqual(command.successCodes, [0, 194]);
          assert.deepEqual(command.rebootCodes, [194]);
          assert.match(command.command, /^\(\n[^]*apt-get install -y '\/var\/tmp\/rebake\/\d+-target-device\/pvs-target\.deb'[^]*\n\) \|\| exit \$\?\n/);
        }
      });
    }

    const windowsCases: { name: string; reboot?: string; wrapped: boolean }[] = [
      { name: "Windows with reboot: if-required runs the install in the pending-reboot wrapper", reboot: "if-required", wrapped: true },
      { name: "Windows that always reboots runs the install as written", wrapped: false },
    ];
    for (const c of windowsCases) {
      it(c.name, async () => {
        const command = step((await planOf(windowsPvs(c.reboot))).steps, "target-device").commands[0]!;
        assert.equal(command.shell, c.wrapped ? "powershell" : "cmd");
        assert.equal(command.command.includes("Invoke-RebakeInstall -CommandLine '\"C:\\Windows\\Temp\\rebake\\"), c.wrapped, command.command);
        if (c.wrapped) assert.ok(command.rebootCodes.includes(3010));
      });
    }

    it("the reboot policy is part of the step's layer hash", async () => {
      const [asks, always] = await Promise.all([planOf(linuxPvs()), planOf(linuxPvs("always"))]);
      assert.notEqual(step(asks.steps, "target-device").hash, step(always.steps, "target-device").hash);
      assert.equal(step(asks.steps, "app").hash, step(always.steps, "app").hash);
    });
  });

  it("VDA gets the build's required flags without repeating the recipe's", async () => {
    const vda = step((await planOf(fixtureRecipe("plan-win-mcs"))).steps, "vda").commands[0]!.command;
    assert.equal(
      vda,
      '"C:\\Windows\\Temp\\rebake\\09-vda\\VDAWorkstationSetup.exe" /quiet /noreboot /noresume /mastermcsimage /components vda /controllers ddc1.example.test',
    );
  });

  it("the domain join password stays a secret reference, passed as an environment variable", async () => {
    const join = step((await planOf(fixtureRecipe("plan-win-mcs"))).steps, "domain-join");
    assert.deepEqual(join.commands[0]?.secretEnv, { REBAKE_JOIN_PASSWORD: "env:JOIN_PASSWORD" });
    assert.ok(!join.commands[0]!.command.includes("env:JOIN_PASSWORD"));
    assert.equal(join.reboot, "always");
  });

  it("Linux seal generalises: empty machine-id, no ssh host keys, no logs, no rebake uploads", async () => {
    const seal = step((await planOf(fixtureRecipe("plan-linux-mcs"))).steps, "seal");
    const script = seal.commands.map((c) => c.command).join("\n");
    for (const needle of ["truncate -s 0 /etc/machine-id", "rm -f /etc/ssh/ssh_host_*", "find /var/log -type f", "rm -rf '/var/tmp/rebake'", "apt-get clean"]) {
      assert.ok(script.includes(needle), needle);
    }
    assert.match(seal.commands.at(-1)!.command, /rebake/, "removing the uploads comes last");
  });

  it("Windows seal runs the scripts first, then cleanup, then resets the update client id", async () => {
    const seal = step((await planOf(fixtureRecipe("plan-win-mcs"))).steps, "seal");
    assert.equal(seal.commands[0]?.command, "& 'C:\\Windows\\Temp\\rebake\\11-seal\\optimize.ps1'; exit $LASTEXITCODE");
    assert.ok(seal.commands.some((c) => c.command.includes("SusClientId")));
    assert.ok(!seal.commands.some((c) => c.command.includes("sysprep")), "generalize: false means no sysprep");
  });
});

describe("createPlan warns and refuses loudly", () => {
  it("lists every unpinned input as a warning", async () => {
    const plan = await planOf(fixtureRecipe("plan-win-mcs"));
    assert.equal(plan.warnings.length, 1);
    assert.match(plan.warnings[0]!, /^UNPINNED INPUT in step 07-app-lob-client: .*the vendor publishes no checksum/);
  });

  it("warns when sysprep would undo the MCS domain join", async () => {
    const plan = await planOf(edited(fixtureRecipe("plan-win-mcs"), (r) => (r.seal.generalize = true)));
    assert.ok(plan.warnings.some((w) => w.includes("sysprep /generalize in the seal removes the domain join")));
  });

  const failures: { name: string; edit: (r: any) => void; error: new (...args: any[]) => Error; message: RegExp }[] = [
    { name: "unknown cleanup action", edit: (r) => (r.seal.cleanup = ["temp", "defrag"]), error: UnknownCleanupError, message: /'defrag'.*use one of: temp, logs/ },
    { name: "Linux driver without an install command", edit: (r) => (r.os.family = "linux"), error: PlanError, message: /driver 'netdrv' has no install command/ },
    { name: "app without an install command for the family", edit: (r) => ((r.os.family = "linux"), (r.drivers = [])), error: PlanError, message: /app '7zip@24.08' has no install.linux command/ },
    { name: "Windows tools without an installer", edit: (r) => delete r.hypervisorTools.installer, error: PlanError, message: /add hypervisorTools.installer/ },
  ];
  for (const f of failures) {
    it(`rejects: ${f.name}`, async () => {
      await assert.rejects(planOf(edited(fixtureRecipe("plan-win-mcs"), f.edit)), (error: Error) => error instanceof f.error && f.message.test(error.message));
    });
  }

  it("names the file when a local input cannot be hashed", async () => {
    const recipe = edited(fixtureRecipe("plan-win-pvs"), (r) => (r.os.iso = { path: "../files/missing.iso" }));
    await assert.rejects(planOf(recipe, { hashFile: async (p) => { throw new Error(`ENOENT: ${p}`); } }), (error: Error) =>
      error instanceof PlanInputError && /missing\.iso/.test(error.message) && /fix the path/.test(error.message),
    );
  });
});
