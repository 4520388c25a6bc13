import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRecordingExec, type ExecResult } from "../../src/util/exec.ts";
import { Govc } from "../../src/hypervisors/vsphere/govc.ts";
import { VsphereDriver } from "../../src/hypervisors/vsphere/vsphere-driver.ts";
import { govcEnvironment, VsphereSettingsError, type VsphereSettings } from "../../src/hypervisors/vsphere/settings.ts";
import { VmwareToolsChannel, ToolsCommandTimeoutError, ToolsUploadChecksumError } from "../../src/guest/vmware-tools/vmware-tools-channel.ts";
import { GuestTimeoutError } from "../../src/guest/channel.ts";
import { sha256File } from "../../src/util/hash-file.ts";

const VM = "/DC0/vm/golden";
const LOGIN = { GOVC_GUEST_LOGIN: "Administrator:guest-secret" };
const ENV = { GOVC_URL: "https://vc.example/sdk", GOVC_USERNAME: "svc", GOVC_PASSWORD: "vc-secret" };

/** govc vm.info -json as govc 0.24 prints it (Go field names). */
function vmInfo(power: string, tools: string, ip = ""): string {
  return JSON.stringify({ VirtualMachines: [{ Runtime: { PowerState: power }, Guest: { ToolsRunningStatus: tools, IpAddress: ip }, Config: { Template: false } }] });
}

/** govc guest.ps -json as govc 0.24 prints it. */
function processInfo(pid: number, exitCode: number | undefined): string {
  return JSON.stringify({ ProcessInfo: [{ Name: "sh", Pid: pid, Owner: "root", CmdLine: "", StartTime: "2026-11-22T00:00:00Z", EndTime: exitCode === undefined ? null : "2026-11-22T00:00:05Z", ExitCode: exitCode ?? 0 }] });
}

function fakeGovc(answers: (args: readonly string[]) => Partial<ExecResult> | undefined) {
  const exec = createRecordingExec((_command, args) => answers(args));
  return { exec, govc: new Govc({ exec, env: ENV }) };
}

describe("VMware Tools guest channel", () => {
  test("contract: exec uploads the script, starts it with redirected output, polls guest.ps until exit and downloads the output", async () => {
    let polls = 0;
    const { exec, govc } = fakeGovc((args) => {
      switch (args[0]) {
        case "guest.mktemp":
          return { stdout: "/tmp/govc-123\n" };
        case "guest.start":
          return { stdout: "4242\n" };
        case "guest.ps":
          return { stdout: processInfo(4242, ++polls < 3 ? undefined : 3) };
        case "guest.download":
          return { stdout: args.includes("/tmp/govc-123/stdout.txt") ? "hello\n" : "warning\n" };
        default:
          return undefined;
      }
    });
    const channel = new VmwareToolsChannel({ govc, vm: VM, login: () => LOGIN, guestOs: "linux", pollMs: 1 });
    const chunks: string[] = [];
    const result = await channel.exec("echo hello; exit 3", { shell: "sh", timeoutMs: 5_000, onOutput: (chunk, stream) => chunks.push(`${stream}:${chunk}`) });
    assert.deepEqual(result, { exitCode: 3, stdout: "hello\n", stderr: "warning\n" });
    assert.deepEqual(chunks, ["stdout:hello\n", "stderr:warning\n"]);
    assert.deepEqual(exec.calls.map((c) => c.args[0]), ["guest.mktemp", "guest.upload", "guest.start", "guest.ps", "guest.ps", "guest.ps", "guest.download", "guest.download", "guest.rmdir"]);
    const start = exec.calls.find((c) => c.args[0] === "guest.start")!;
    assert.deepEqual(start.args.slice(3), ["/bin/sh", "-c", "sh '/tmp/govc-123/step.sh' > '/tmp/govc-123/stdout.txt' 2> '/tmp/govc-123/stderr.txt'"]);
    for (const call of exec.calls) {
      assert.equal(call.options?.env?.GOVC_GUEST_LOGIN, LOGIN.GOVC_GUEST_LOGIN);
      assert.ok(!call.args.join(" ").includes("secret"), `no secret in: govc ${call.args.join(" ")}`);
    }
  });

  for (const { shell, program } of [
    { shell: "powershell", program: /^cmd\.exe \/c powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\\T\\step\.ps1" > "C:\\T\\stdout\.txt" 2> "C:\\T\\stderr\.txt"$/ },
    { shell: "cmd", program: /^cmd\.exe \/c ""C:\\T\\step\.cmd" > "C:\\T\\stdout\.txt" 2> "C:\\T\\stderr\.txt""$/ },
  ] as const) {
    test(`contract: a ${shell} script on Windows runs with its output redirected to files`, async () => {
      const { exec, govc } = fakeGovc((args) =>
        args[0] === "guest.mktemp" ? { stdout: "C:\\T\n" } : args[0] === "guest.start" ? { stdout: "7\n" } : args[0] === "guest.ps" ? { stdout: processInfo(7, 0) } : undefined,
      );
      const channel = new VmwareToolsChannel({ govc, vm: VM, login: () => LOGIN, pollMs: 1 });
      assert.equal((await channel.exec("Write-Output hi", { shell, timeoutMs: 1_000 })).exitCode, 0);
      const start = exec.calls.find((c) => c.args[0] === "guest.start")!;
      assert.match(start.args.slice(3).join(" "), program);
    });
  }

  test("contract: a command past its timeout is killed with guest.kill", async () => {
    const { exec, govc } = fakeGovc((args) =>
      args[0] === "guest.mktemp" ? { stdout: "/tmp/t\n" } : args[0] === "guest.start" ? { stdout: "99\n" } : args[0] === "guest.ps" ? { stdout: processInfo(99, undefined) } : undefined,
    );
    const channel = new VmwareToolsChannel({ govc, vm: VM, login: () => LOGIN, guestOs: "linux", pollMs: 1 });
    await assert.rejects(channel.exec("sleep 1000", { shell: "sh", timeoutMs: 20 }), ToolsCommandTimeoutError);
    assert.ok(exec.calls.some((c) => c.args[0] === "guest.kill" && c.args.includes("99")));
    assert.equal(exec.calls.at(-1)!.args[0], "guest.rmdir", "the temp dir is removed even after a timeout");
  });

  test("contract: an upload whose guest sha256 differs fails", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "rebake-tools-"));
    try {
      const file = path.join(dir, "setup.exe");
      await writeFile(file, "payload");
      const good = await sha256File(file);
      for (const { guestHash, ok } of [{ guestHash: good, ok: true }, { guestHash: "0".repeat(64), ok: false }]) {
        const { govc } = fakeGovc((args) =>
          args[0] === "guest.mktemp" ? { stdout: "/tmp/t\n" } : args[0] === "guest.start" ? { stdout: "5\n" } : args[0] === "guest.ps" ? { stdout: processInfo(5, 0) } : args[0] === "guest.download" && args.includes("/tmp/t/stdout.txt") ? { stdout: `${guestHash}  /opt/setup.exe\n` } : undefined,
        );
        const channel = new VmwareToolsChannel({ govc, vm: VM, login: () => LOGIN, guestOs: "linux", pollMs: 1 });
        if (ok) assert.deepEqual(await channel.upload(file, "/opt/setup.exe"), { sha256: good });
        else await assert.rejects(channel.upload(file, "/opt/setup.exe"), ToolsUploadChecksumError);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const { tools, step } of [
    { tools: "guestToolsNotRunning", step: "wait for VMware Tools" },
    { tools: "guestToolsRunning", step: "wait for an IP address" },
  ]) {
    test(`contract: waitReady times out naming the step "${step}"`, async () => {
      const { govc } = fakeGovc((args) => (args[0] === "vm.info" ? { stdout: vmInfo("poweredOn", tools) } : undefined));
      const channel = new VmwareToolsChannel({ govc, vm: VM, login: () => LOGIN, pollMs: 1 });
      await assert.rejects(channel.waitReady(20), (e: Error) => e instanceof GuestTimeoutError && e.message.includes(`step "${step}" did not finish within 20 ms`));
    });
  }

  test("contract: waitReady resolves once tools run and an IP is reported", async () => {
    let calls = 0;
    const { govc } = fakeGovc((args) => (args[0] === "vm.info" ? { stdout: ++calls < 3 ? vmInfo("poweredOn", "guestToolsRunning") : vmInfo("poweredOn", "guestToolsRunning", "10.0.0.5") } : undefined));
    await new VmwareToolsChannel({ govc, vm: VM, login: () => LOGIN, pollMs: 1 }).waitReady(5_000);
    assert.equal(calls, 3);
  });
});

describe("vSphere driver", () => {
  const settings: VsphereSettings = {
    url: "https://vc.example/sdk",
    datacenter: "DC0",
    datastore: "LocalDS_0",
    network: "VM Network",
    credentials: { usernameEnv: "VS_USER", passwordEnv: "VS_PASS" },
  };

  test("contract: exportDisk runs export.ovf into a temp folder and returns the vmdk under the final one (vcsim has no OVF export)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "rebake-export-"));
    try {
      const exec = createRecordingExec((_command, args) => {
        if (args[0] === "vm.info") return { stdout: vmInfo("poweredOff", "guestToolsNotRunning") };
        if (args[0] === "export.ovf") {
          // govc export.ovf DIR writes DIR/<vm>/<vm>.ovf and <vm>-disk-0.vmdk
          const out = path.join(args.at(-1)!, "golden");
          mkdirSync(out, { recursive: true });
          writeFileSync(path.join(out, "golden.ovf"), "<Envelope/>");
          writeFileSync(path.join(out, "golden-disk-0.vmdk"), "KDMV");
        }
        return undefined;
      });
      const driver = new VsphereDriver({ settings, exportDir: dir, exec, env: { VS_USER: "u", VS_PASS: "p" }, log: () => {} });
      const vm = { id: VM, name: "golden" };
      const disk = await driver.exportDisk(vm);
      assert.deepEqual({ path: disk.path, format: disk.format }, { path: path.join(dir, "golden", "golden", "golden-disk-0.vmdk"), format: "vmdk" });
      await disk.dispose!();
      assert.deepEqual(readdirSync(dir), [], "dispose removes the export");
      const call = exec.calls.find((c) => c.args[0] === "export.ovf")!;
      assert.deepEqual(call.args.slice(0, 3), ["export.ovf", "-vm", VM]);
      assert.equal(call.options?.env?.GOVC_PASSWORD, "p", "credentials travel in the environment");
      assert.ok(!call.args.includes("p") && !call.args.includes("u"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("contract: exportDisk of a running VM is refused", async () => {
    const exec = createRecordingExec((_c, args) => (args[0] === "vm.info" ? { stdout: vmInfo("poweredOn", "guestToolsRunning") } : undefined));
    const driver = new VsphereDriver({ settings, exportDir: "/nonexistent", exec, env: { VS_USER: "u", VS_PASS: "p" }, log: () => {} });
    await assert.rejects(driver.exportDisk({ id: VM, name: "golden" }), /while it is poweredOn: shut it down first/);
  });

  for (const { env, message } of [
    { env: {}, message: /VS_USER \(vSphere user name\) is not set.*VS_PASS \(vSphere password\) is not set/ },
    { env: { VS_USER: "u" }, message: /VS_PASS \(vSphere password\) is not set/ },
  ]) {
    test(`settings name the missing credential variables (${Object.keys(env).join(",") || "none set"})`, () => {
      assert.throws(() => govcEnvironment(settings, env), (e: Error) => e instanceof VsphereSettingsError && message.test(e.message));
    });
  }

  test("settings refuse credentials inside the URL", () => {
    assert.throws(() => govcEnvironment({ ...settings, url: "https://u:p@vc.example/sdk" }, { VS_USER: "u", VS_PASS: "p" }), /url must not carry credentials/);
  });
});
