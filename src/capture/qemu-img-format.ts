/**
 * The qemu-img format name of a disk a driver exports: VHD is `vpc` to qemu-img (qemu
 * docs/system/images.rst, "vpc: VirtualPC compatible image format (VHD)").
 */
const QEMU_IMG_FORMATS = { qcow2: "qcow2", raw: "raw", vmdk: "vmdk", vhd: "vpc" } as const;

export type ExportedDiskFormat = keyof typeof QEMU_IMG_FORMATS;

export function qemuImgFormat(format: ExportedDiskFormat): string {
  return QEMU_IMG_FORMATS[format];
}
