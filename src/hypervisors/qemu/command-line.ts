/**
 * Builds the qemu-system-x86_64 arguments for one VM from a plain description, so the device
 * layout is checked by unit tests without starting anything.
 */
import type { Accel } from "./kvm-probe.ts";

/** QMP/qdev ids the driver refers to at run time (snapshots, media changes). */
export const DEVICE_IDS = {
  disk: "disk0",
  install: "cd-install",
  answers: "cd-answers",
  /** The guest agent's virtio-serial port: QEMU names it in VSERPORT_CHANGE when the guest opens it. */
  agentPort: "qga-port",
} as const;

/**
 * The versioned machine type, not the "q35" alias: a saved VM state only loads into the same
 * machine type, and the alias moves with every QEMU release.
 */
export const MACHINE_TYPE = "pc-q35-7.2";

/**
 * The RAM block id of pc-q35-7.2 (`"default-ram-id": "pc.ram"` in Debian 12's QEMU answer to QMP
 * query-machines). A backend given to `-machine memory-backend` must carry it to stay migration
 * compatible (https://www.qemu.org/docs/master/system/invocation.html, -machine memory-backend).
 */
const DEFAULT_RAM_ID = "pc.ram";

/** Boot order: the installer first so a fresh disk never shadows it; the disk once it is removed. */
const BOOT_INDEX = { install: 0, disk: 1 } as const;

export interface UefiVars {
  readonly code: string;
  /** This VM's writable copy of the variable store. */
  readonly vars: string;
  readonly secureBoot: boolean;
}

export interface QemuMachine {
  readonly name: string;
  readonly accel: Accel;
  readonly cpus: number;
  readonly memoryMiB: number;
  /** The qcow2 layer the VM writes to (its backing chain is read by QEMU). */
  readonly diskPath: string;
  /** Undefined means BIOS (SeaBIOS). */
  readonly uefi?: UefiVars;
  /** swtpm control socket when the VM has a TPM. */
  readonly tpmSocket?: string;
  readonly media: { readonly install?: string; readonly answers?: string };
  readonly qmpSocket: string;
  /**
   * A second QMP monitor for people (and tests) while rebake holds the first: a QMP socket takes
   * one client at a time.
   */
  readonly operatorQmpSocket?: string;
  readonly qgaSocket: string;
  readonly serialLog: string;
  /** Start paused, waiting for a saved VM state (QMP migrate-incoming) instead of booting. */
  readonly incoming?: {
    /**
     * Threads that allocate the guest's memory before the state loads. QEMU 7.2 loads a state by
     * reading or writing every page of guest memory, one page at a time on one thread, so a fresh
     * process pays a page fault per page inside the load; allocated up front in parallel, the load
     * only copies. Measured on the demo (512 MiB, a host where a fault costs about 16 us): 1.2-2.3 s
     * to load, against 0.7-1.0 s to allocate with 2 threads plus 0.3-0.4 s to load. Where reads
     * map the shared zero page instead, the load still allocates nearly all of it, as the 2 MiB
     * pages QEMU asks for, so allocating up front costs little memory there either.
     */
    readonly preallocThreads: number;
  };
}

export function buildQemuArgs(machine: QemuMachine): string[] {
  const secureBoot = machine.uefi?.secureBoot === true;
  const args: string[] = [
    "-name", `${machine.name},process=rebake-${machine.name}`,
    "-nodefaults",
    "-machine", `${MACHINE_TYPE},accel=${machine.accel}${secureBoot ? ",smm=on" : ""}`,
    // TCG cannot pass the host CPU through; "max" gives it every feature TCG emulates.
    "-cpu", machine.accel === "kvm" ? "host" : "max",
    "-smp", String(machine.cpus),
    "-m", String(machine.memoryMiB),
    "-display", "none",
    "-device", "VGA",
    "-chardev", `socket,id=qmp,path=${opt(machine.qmpSocket)},server=on,wait=off`,
    "-mon", "chardev=qmp,mode=control",
    ...(machine.operatorQmpSocket ? ["-chardev", `socket,id=qmp-operator,path=${opt(machine.operatorQmpSocket)},server=on,wait=off`, "-mon", "chardev=qmp-operator,mode=control"] : []),
    "-chardev", `file,id=serial0,path=${opt(machine.serialLog)}`,
    "-serial", "chardev:serial0",
    "-netdev", "user,id=net0",
    "-device", "virtio-net-pci,netdev=net0",
    "-drive", `if=none,id=${DEVICE_IDS.disk},file=${opt(machine.diskPath)},format=qcow2,discard=unmap,detect-zeroes=unmap`,
    "-device", `virtio-blk-pci,drive=${DEVICE_IDS.disk},bootindex=${BOOT_INDEX.disk}`,
    ...cdrom(DEVICE_IDS.install, 0, machine.media.install, BOOT_INDEX.install),
    ...cdrom(DEVICE_IDS.answers, 1, machine.media.answers, undefined),
    "-chardev", `socket,id=qga0,path=${opt(machine.qgaSocket)},server=on,wait=off`,
    "-device", "virtio-serial-pci,id=virtio-serial0",
    "-device", `virtserialport,chardev=qga0,name=org.qemu.guest_agent.0,id=${DEVICE_IDS.agentPort}`,
  ];
  if (machine.incoming) {
    // The backend keeps the default RAM id (pc.ram), so states saved by a VM without it still load.
    const threads = Math.max(1, Math.floor(machine.incoming.preallocThreads));
    const memory = `memory-backend-ram,id=${DEFAULT_RAM_ID},size=${machine.memoryMiB}M,prealloc=on,prealloc-threads=${threads}`;
    args.push("-object", memory, "-machine", `memory-backend=${DEFAULT_RAM_ID}`, "-incoming", "defer", "-S");
  }
  if (machine.uefi) {
    if (secureBoot) args.push("-global", "driver=cfi.pflash01,property=secure,value=on");
    args.push(
      "-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${opt(machine.uefi.code)}`,
      "-drive", `if=pflash,format=raw,unit=1,file=${opt(machine.uefi.vars)}`,
    );
  }
  if (machine.tpmSocket) {
    args.push(
      "-chardev", `socket,id=chrtpm,path=${opt(machine.tpmSocket)}`,
      "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
      // OVMF drives the CRB interface (what Windows 11 expects); SeaBIOS only knows TIS.
      "-device", `${machine.uefi ? "tpm-crb" : "tpm-tis"},tpmdev=tpm0`,
    );
  }
  return args;
}

/** A CD-ROM on the q35 AHCI controller, present even when empty so media can change while running. */
function cdrom(id: string, port: number, file: string | undefined, bootIndex: number | undefined): string[] {
  const drive = [`if=none`, `id=${id}-drive`, `media=cdrom`, `readonly=on`, ...(file ? [`file=${opt(file)}`, `format=raw`] : [])];
  const device = [`ide-cd`, `id=${id}`, `drive=${id}-drive`, `bus=ide.${port}`, ...(bootIndex !== undefined ? [`bootindex=${bootIndex}`] : [])];
  return ["-drive", drive.join(","), "-device", device.join(",")];
}

/** QEMU option values end at a comma; a literal comma in a path is written twice. */
export function opt(value: string): string {
  return value.replaceAll(",", ",,");
}
