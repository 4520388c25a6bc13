import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attachBootIso, NoBootIsoError } from "../../src/boot/attach-boot-iso.ts";
import { checkBootConfig, planSiteBoot, type BootstrapPlan, type PxePlan } from "../../src/boot/boot-plan.ts";
import { consoleText, NETBOOT_EVIDENCE } from "../../src/boot/netboot-check.ts";
import { main } from "../../src/cli/main.ts";
import { FakeHypervisorDriver } from "../../src/hypervisors/fake-driver.ts";
import type { PvsSite, SiteBootConfig } from "../../src/stacks/model.ts";

const site = (boot: SiteBootConfig): PvsSite => ({ name: "HQ", server: "pvs01", collection: "WS2022-Apps", store: { name: "Store-HQ", location: "/mnt/hq" }, boot });
const TWO = [{ host: "pvs01.corp.example", ip: "10.0.10.11" }, { host: "pvs02.corp.example", ip: "10.0.10.12", port: 6911 }];

describe("boot plans", () => {
  it("pxe with two servers: option 66 is the round-robin name, one A record per server, option 67 by firmware", () => {
    const plan = planSiteBoot(site({ method: "pxe", servers: TWO, tftpName: "pvs-tftp.corp.example" }), { method: "pxe", servers: TWO, tftpName: "pvs-tftp.corp.example" }) as PxePlan;
    assert.deepEqual(plan.dhcp, { option66: "pvs-tftp.corp.example", option67: "pvsnbpx64.efi" });
    assert.deepEqual(plan.dns.map((r) => `${r.name} ${r.type} ${r.value}`), ["pvs-tftp.corp.example A 10.0.10.11", "pvs-tftp.corp.example A 10.0.10.12"]);
    assert.ok(plan.checklist.some((l) => /option 67 .*pvsnbpx64\.efi/.test(l)));
  });

  const pxeCases: [string, SiteBootConfig, { option66: string; option67: string }][] = [
    ["one server: option 66 is its address", { method: "pxe", servers: [TWO[0]!] }, { option66: "10.0.10.11", option67: "pvsnbpx64.efi" }],
    ["bios devices get ARDBP32.BIN", { method: "pxe", servers: [TWO[0]!], firmware: "bios" }, { option66: "10.0.10.11", option67: "ARDBP32.BIN" }],
    ["an explicit bootfile wins", { method: "pxe", servers: [TWO[0]!], bootfile: "custom.efi" }, { option66: "10.0.10.11", option67: "custom.efi" }],
  ];
  for (const [name, boot, dhcp] of pxeCases) {
    it(`pxe, ${name}`, () => assert.deepEqual((planSiteBoot(site(boot), boot) as PxePlan).dhcp, dhcp));
  }

  it("iso: the bootstrap lists the login servers with the default port, and the ISO to attach", () => {
    const boot: SiteBootConfig = { method: "iso", servers: TWO, isoPath: "[ds1] iso/pvs.iso" };
    const plan = planSiteBoot(site(boot), boot) as BootstrapPlan;
    assert.deepEqual(plan.bootstrap.servers.map((s) => `${s.ip}:${s.port}`), ["10.0.10.11:6910", "10.0.10.12:6911"]);
    assert.equal(plan.iso, "[ds1] iso/pvs.iso");
  });

  const problems: [string, SiteBootConfig, RegExp][] = [
    ["pxe with two servers and no tftpName", { method: "pxe", servers: TWO }, /need tftpName/],
    ["iso without isoPath", { method: "iso", servers: TWO }, /needs isoPath/],
    ["bdm with DHCP settings", { method: "bdm", servers: TWO, tftpName: "x.example" }, /DHCP settings of method pxe/],
    ["five bootstrap servers", { method: "bdm", servers: [...TWO, ...TWO, TWO[0]!] }, /at most 4/],
  ];
  for (const [name, boot, pattern] of problems) {
    it(`refuses ${name}`, () => assert.match(checkBootConfig("HQ", boot, "stacks/Pulumi.prod.yaml").join("\n"), pattern));
  }

  it("the boot ISO is attached through the driver as the first boot media; bdm has none to attach", async () => {
    const driver = new FakeHypervisorDriver();
    const vm = await driver.createVm({ name: "tpl", cpus: 1, memoryMiB: 512, diskGiB: 1, firmware: "uefi", secureBoot: false, tpm: false, disk: { path: join(tmpdir(), `rebake-boot-${process.pid}.qcow2`) } });
    const iso: SiteBootConfig = { method: "iso", servers: TWO, isoPath: "[ds1] iso/pvs.iso" };
    await attachBootIso(driver, vm, planSiteBoot(site(iso), iso) as BootstrapPlan);
    assert.deepEqual(driver.vms.get(vm.id)?.media, [{ path: "[ds1] iso/pvs.iso", role: "install" }]);
    const bdm: SiteBootConfig = { method: "bdm", servers: TWO };
    await assert.rejects(attachBootIso(driver, vm, planSiteBoot(site(bdm), bdm) as BootstrapPlan), NoBootIsoError);
    await rm(join(tmpdir(), `rebake-boot-${process.pid}.qcow2`), { force: true });
  });
});

describe("netboot evidence", () => {
  it("the serial console's text is read through sgabios's cursor escapes", () => {
    const serial = "\x1b[8;1Hr\x1b[8;2He\x1b[8;3Hbake.ipxe... ok\r\nBooting\x1b[9;8H from SAN device 0x80\r\n";
    assert.ok(NETBOOT_EVIDENCE.every((line) => consoleText(serial).includes(line)), consoleText(serial));
  });
});

describe("rebake boot", () => {
  async function project(): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), "rebake-boot-"));
    await mkdir(join(root, "stacks"));
    await writeFile(join(root, "stacks", "Pulumi.s.yaml"), `config:
  rebake:target: pvs
  rebake:image: { recipe: ws2022-pvs, version: 1.0.0 }
  rebake:hypervisor: { kind: qemu }
  rebake:pvs:
    server: pvs01.corp.example
    executor: { kind: local }
    accessMode: production
    sites:
      - name: HQ
        server: pvs01.corp.example
        collection: WS2022-Apps
        store: { name: Store-HQ, location: /mnt/hq }
        boot:
          method: pxe
          tftpName: pvs-tftp.corp.example
          servers:
            - { host: pvs01.corp.example, ip: 10.0.10.11 }
            - { host: pvs02.corp.example, ip: 10.0.10.12 }
      - name: Lyon
        server: pvs-lyo01.corp.example
        collection: WS2022-Apps
        store: { name: Store-Lyon, location: /mnt/lyon }
        boot:
          method: iso
          isoPath: "[ds-lyon] iso/pvs-boot.iso"
          servers:
            - { host: pvs-lyo01.corp.example, ip: 10.1.10.11 }
`);
    return root;
  }
  const io = (cwd: string) => {
    const o = { out: "", err: "", stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t), cwd, env: {}, isTty: false, signal: new AbortController().signal };
    return o;
  };

  it("prints a checklist per site and, with --json, the plans with the bootstrap script", async () => {
    const root = await project();
    try {
      const text = io(root);
      assert.equal(await main(["boot", "--stack", "s", "--script"], text), 0, text.err);
      assert.match(text.out, /HQ \(pxe\):\n {2}\[ \] Run the PVS Configuration Wizard/);
      assert.match(text.out, /DNS: add A record pvs-tftp\.corp\.example -> 10\.0\.10\.12/);
      assert.match(text.out, /Set-PvsServerBootstrap -ServerName 'pvs-lyo01\.corp\.example'/);
      const json = io(root);
      assert.equal(await main(["boot", "--stack", "s", "--json"], json), 0);
      const parsed = JSON.parse(json.out) as { sites: { site: string; method: string; dhcp?: unknown; iso?: string; script?: string }[] };
      assert.deepEqual(parsed.sites.map((s) => s.method), ["pxe", "iso"]);
      assert.deepEqual(parsed.sites[0]?.dhcp, { option66: "pvs-tftp.corp.example", option67: "pvsnbpx64.efi" });
      assert.equal(parsed.sites[1]?.iso, "[ds-lyon] iso/pvs-boot.iso");
      assert.match(parsed.sites[1]?.script ?? "", /-Bootserver1_Ip '10\.1\.10\.11' -Bootserver1_Port 6910/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("a stack with a bad boot setting fails naming the file and site", async () => {
    const root = await project();
    try {
      const { readFile } = await import("node:fs/promises");
      const file = join(root, "stacks", "Pulumi.s.yaml");
      await writeFile(file, (await readFile(file, "utf8")).replace('          isoPath: "[ds-lyon] iso/pvs-boot.iso"\n', ""));
      const out = io(root);
      assert.equal(await main(["boot", "--stack", "s"], out), 1);
      assert.match(out.err, /Pulumi\.s\.yaml: site Lyon boot: method iso needs isoPath/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
