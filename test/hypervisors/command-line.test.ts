import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildQemuArgs, opt, type QemuMachine } from "../../src/hypervisors/qemu/command-line.ts";

const base: QemuMachine = {
  name: "golden",
  accel: "tcg",
  cpus: 2,
  memoryMiB: 2048,
  diskPath: "/layers/top.qcow2",
  media: {},
  qmpSocket: "/run/vm/qmp.sock",
  qgaSocket: "/run/vm/qga.sock",
  serialLog: "/run/vm/serial.log",
};

/** The value after each occurrence of `flag`. */
function values(args: readonly string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag && args[index + 1] !== undefined ? [args[index + 1] as string] : []));
}

describe("buildQemuArgs", () => {
  const cases: { name: string; machine: QemuMachine; has: [string, RegExp][]; lacks?: [string, RegExp][] }[] = [
    {
      name: "BIOS under TCG uses the max CPU model, q35 without SMM and no flash",
      machine: base,
      has: [["-cpu", /^max$/], ["-machine", /^pc-q35-7\.2,accel=tcg$/], ["-display", /^none$/]],
      lacks: [["-drive", /if=pflash/], ["-tpmdev", /./]],
    },
    {
      name: "KVM passes the host CPU through",
      machine: { ...base, accel: "kvm" },
      has: [["-cpu", /^host$/], ["-machine", /accel=kvm/]],
    },
    {
      name: "UEFI secure boot needs SMM, a secure flash and the per-VM variable store",
      machine: { ...base, uefi: { code: "/ovmf/CODE.ms.fd", vars: "/run/vm/VARS.fd", secureBoot: true } },
      has: [["-machine", /smm=on/], ["-global", /cfi.pflash01,property=secure,value=on/], ["-drive", /if=pflash,format=raw,unit=0,readonly=on,file=\/ovmf\/CODE.ms.fd/], ["-drive", /unit=1,file=\/run\/vm\/VARS.fd$/]],
    },
    {
      name: "a TPM on BIOS is TIS, with swtpm's socket",
      machine: { ...base, tpmSocket: "/run/vm/swtpm.sock" },
      has: [["-chardev", /^socket,id=chrtpm,path=\/run\/vm\/swtpm.sock$/], ["-tpmdev", /^emulator,id=tpm0,chardev=chrtpm$/], ["-device", /^tpm-tis,tpmdev=tpm0$/]],
    },
    {
      name: "a TPM on UEFI is CRB",
      machine: { ...base, tpmSocket: "/s", uefi: { code: "/c", vars: "/v", secureBoot: false } },
      has: [["-device", /^tpm-crb,tpmdev=tpm0$/]],
      lacks: [["-machine", /smm=on/]],
    },
    {
      name: "the install ISO boots before the virtio disk and the answers ISO is a second CD-ROM",
      machine: { ...base, media: { install: "/iso/os.iso", answers: "/iso/cidata.iso" } },
      has: [
        ["-drive", /^if=none,id=cd-install-drive,media=cdrom,readonly=on,file=\/iso\/os.iso,format=raw$/],
        ["-device", /^ide-cd,id=cd-install,drive=cd-install-drive,bus=ide.0,bootindex=0$/],
        ["-drive", /^if=none,id=cd-answers-drive,media=cdrom,readonly=on,file=\/iso\/cidata.iso,format=raw$/],
        ["-device", /^ide-cd,id=cd-answers,drive=cd-answers-drive,bus=ide.1$/],
        ["-device", /^virtio-blk-pci,drive=disk0,bootindex=1$/],
      ],
    },
    {
      name: "CD-ROM drives exist without media so media can be inserted later",
      machine: base,
      has: [["-drive", /^if=none,id=cd-install-drive,media=cdrom,readonly=on$/], ["-drive", /^if=none,id=cd-answers-drive,media=cdrom,readonly=on$/]],
    },
    {
      name: "QMP, the guest agent port, the serial log and user networking are wired",
      machine: base,
      has: [
        ["-chardev", /^socket,id=qmp,path=\/run\/vm\/qmp.sock,server=on,wait=off$/],
        ["-mon", /^chardev=qmp,mode=control$/],
        ["-chardev", /^socket,id=qga0,path=\/run\/vm\/qga.sock,server=on,wait=off$/],
        ["-device", /^virtserialport,chardev=qga0,name=org.qemu.guest_agent.0,id=qga-port$/],
        ["-chardev", /^file,id=serial0,path=\/run\/vm\/serial.log$/],
        ["-netdev", /^user,id=net0$/],
        ["-drive", /^if=none,id=disk0,file=\/layers\/top.qcow2,format=qcow2/],
      ],
    },
    {
      name: "a VM that boots has QEMU's default RAM and does not wait for a state",
      machine: base,
      has: [["-m", /^2048$/]],
      lacks: [["-object", /memory-backend/], ["-incoming", /./]],
    },
    {
      name: "a VM waiting for a saved state allocates its memory up front in threads, under the RAM id states are saved with",
      machine: { ...base, incoming: { preallocThreads: 2 } },
      has: [
        ["-object", /^memory-backend-ram,id=pc\.ram,size=2048M,prealloc=on,prealloc-threads=2$/],
        ["-machine", /^memory-backend=pc\.ram$/],
        ["-m", /^2048$/],
        ["-incoming", /^defer$/],
      ],
    },
    {
      name: "commas in paths are doubled so they cannot start a new option",
      machine: { ...base, diskPath: "/odd,dir/top.qcow2" },
      has: [["-drive", /file=\/odd,,dir\/top.qcow2,format=qcow2/]],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const args = buildQemuArgs(c.machine);
      for (const [flag, pattern] of c.has) assert.ok(values(args, flag).some((value) => pattern.test(value)), `${flag} ${pattern} missing from ${args.join(" ")}`);
      for (const [flag, pattern] of c.lacks ?? []) assert.ok(!values(args, flag).some((value) => pattern.test(value)), `${flag} ${pattern} unexpected`);
    });
  }

  it("never lets QEMU exit on a guest reboot", () => {
    assert.ok(!buildQemuArgs(base).includes("-no-reboot"));
  });

  it("escapes option values", () => {
    assert.equal(opt("a,b,,c"), "a,,b,,,,c");
  });
});
