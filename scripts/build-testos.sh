#!/usr/bin/env bash
# Builds the rebake test OS: a small installer ISO that boots under BIOS (isolinux) and UEFI
# (shim + GRUB, signed: Secure Boot on or off), made only from Debian 12 packages (a Debian kernel,
# busybox, sfdisk, mke2fs, mkfs.fat, extlinux, shim, GRUB and qemu-guest-agent with its libraries).
# See testos/README.md for what the ISO does when booted and how to drive it under QEMU.
#
# Usage: scripts/build-testos.sh [--force] [--out DIR]
# Prints the path of the ISO. Cached: nothing is rebuilt while the ISO exists and its recorded
# input hash (this script, testos/ except docs, the exact package versions) is unchanged.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/build/testos"
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --out) out=$(realpath -m "$2"); shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-testos: unknown argument '$1' (use --force, --out DIR or --help)" >&2; exit 2 ;;
  esac
  shift
done

readonly ISO_NAME=rebake-testos.iso
readonly VOLUME_ID=REBAKE_TESTOS
# Host tools this script runs (Debian package names); installed when missing.
readonly HOST_PACKAGES=(xorriso cpio kmod binutils dosfstools mtools)
readonly MULTIARCH=x86_64-linux-gnu
readonly LOADER=lib64/ld-linux-x86-64.so.2
# Room in the El Torito EFI image beyond its files, for the FAT tables and directories.
readonly EFI_IMAGE_SLACK_KIB=1024
# El Torito records a boot image's size in 512-byte sectors in 16 bits: at most 65535 of them.
readonly EL_TORITO_MAX_KIB=32767
# FAT cannot store times before 1980; the image's files get this one (mcopy -m keeps it).
readonly FAT_EPOCH=1980-01-01T00:00:00Z

log() { echo "build-testos: $*" >&2; }
die() { echo "build-testos: error: $*" >&2; exit 1; }

ensure_host_packages() {
  "$repo/scripts/install-system-deps.sh" "${HOST_PACKAGES[@]}" >&2 \
    || die "could not install ${HOST_PACKAGES[*]} (apt's error is above)"
}

# shellcheck source=../testos/testos.conf
. "$repo/testos/testos.conf"

kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}

# The shared libraries of the tool packages: their dependency closure, libraries only (the closure
# also reaches perl and dpkg through maintainer-script dependencies, which a busybox system never runs).
library_packages() {
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances "${TOOL_PACKAGES[@]}" 2>/dev/null \
    | grep -E '^lib[a-z0-9]' | grep -vE -- '-perl$|^libperl' | sort -u
}

# name=version of each package's candidate, in one apt-cache call (each call loads the whole cache).
candidate_versions() {
  apt-cache show --no-all-versions "$@" 2>/dev/null | awk '/^Package:/{p=$2} /^Version:/{print p "=" $2}'
}

input_hash() {
  {
    sha256sum "$repo/scripts/build-testos.sh" | cut -d' ' -f1
    (cd "$repo" && find testos -type f ! -name '*.md' | LC_ALL=C sort | xargs sha256sum)
    printf '%s\n' "${PINNED[@]}"
  } | sha256sum | cut -d' ' -f1
}

# Copies an ELF program from the extracted packages and, recursively, every library it needs,
# resolved only inside the packages (a library missing there is an error, not a silent host copy).
copy_elf() {
  local tree=$1 rel=$2
  install -D -m 0755 "$pkgs/$rel" "$tree/$rel"
  local queue=("$pkgs/$rel") file soname found dir
  while [ ${#queue[@]} -gt 0 ]; do
    file=${queue[0]}; queue=("${queue[@]:1}")
    for soname in $(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      [ -e "$tree/lib/$MULTIARCH/$soname" ] && continue
      found=""
      for dir in "lib/$MULTIARCH" "usr/lib/$MULTIARCH"; do
        [ -e "$pkgs/$dir/$soname" ] && { found="$pkgs/$dir/$soname"; break; }
      done
      [ -n "$found" ] || die "$rel needs $soname, which no downloaded package provides; add its package to TOOL_PACKAGES in testos/testos.conf"
      install -D -m 0644 "$(readlink -f "$found")" "$tree/lib/$MULTIARCH/$soname"
      queue+=("$found")
    done
  done
  if [ ! -e "$tree/$LOADER" ]; then
    install -D -m 0755 "$(readlink -f "$pkgs/$LOADER")" "$tree/$LOADER"
  fi
}

# busybox with a link for every applet, at the paths busybox itself names.
install_busybox() {
  local tree=$1 applet
  install -D -m 0755 "$pkgs/bin/busybox" "$tree/bin/busybox"
  for applet in $("$pkgs/bin/busybox" --list-full); do
    [ -e "$tree/$applet" ] && continue
    mkdir -p "$tree/$(dirname "$applet")"
    ln -s /bin/busybox "$tree/$applet"
  done
}

# Kernel modules by name plus their dependencies, with a fresh modules.dep for busybox modprobe.
install_modules() {
  local tree=$1; shift
  local name path dep
  local -A wanted=()
  for name in "$@"; do
    path=$(awk -F: -v n="$name" '{m=$1; sub(/.*\//, "", m); sub(/\.ko.*$/, "", m); gsub(/-/, "_", m); t=n; gsub(/-/, "_", t); if (m == t) {print $0; exit}}' "$moddir/modules.dep")
    [ -n "$path" ] || die "kernel module '$name' is not in $kernel_pkg; fix the module lists in testos/testos.conf"
    wanted[${path%%:*}]=1
    for dep in ${path#*:}; do wanted[$dep]=1; done
  done
  for path in "${!wanted[@]}"; do
    install -D -m 0644 "$moddir/$path" "$tree/lib/modules/$kver/$path"
  done
  cp "$moddir/modules.builtin" "$moddir/modules.builtin.modinfo" "$moddir/modules.order" "$tree/lib/modules/$kver/"
  depmod -b "$tree" "$kver"
}

# A gzip'd newc cpio with fixed owners and times, so equal inputs give equal bytes.
pack_initramfs() {
  local tree=$1 dest=$2
  find "$tree" -exec touch -h -d @0 {} +
  (cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -9 > "$dest"
}

# The kernel command line of a boot loader: isolinux's APPEND, or what follows the kernel on
# GRUB's `linux` line.
isolinux_options() {
  sed -n 's/^[[:space:]]*APPEND[[:space:]]\{1,\}//p' "$1"
}
grub_options() {
  sed -n 's/^[[:space:]]*linux[[:space:]]\{1,\}[^[:space:]]\{1,\}[[:space:]]\{1,\}//p' "$1"
}

# The El Torito EFI boot image: a FAT volume holding only shim at the removable-media path and the
# GRUB it loads next to it. GRUB sees the CD it was started from as (cd0), the ISO 9660 tree, and
# Debian's signed GRUB (one image with an embedded config) sources $prefix/grub.cfg with prefix
# (cd0)/boot/grub once its built-in /EFI/debian is not found: so grub.cfg is /boot/grub/grub.cfg
# of the ISO, and the kernel and installer are the ones isolinux loads (on the ISO once).
build_efi_image() {
  local iso_tree=$1 dest=$2 tree="$work/efi"
  local bios_options efi_options
  bios_options=$(isolinux_options "$repo/testos/isolinux/isolinux.cfg")
  efi_options=$(grub_options "$repo/testos/efi/grub.cfg")
  [ "$bios_options" = "$efi_options" ] \
    || die "the kernel command lines differ: isolinux.cfg APPEND '$bios_options', testos/efi/grub.cfg linux '$efi_options'; make them equal"
  install -D -m 0644 "$pkgs/$SHIM_EFI" "$tree/EFI/BOOT/BOOTX64.EFI"
  install -m 0644 "$pkgs/$GRUB_EFI" "$tree/EFI/BOOT/grubx64.efi"
  install -D -m 0644 "$repo/testos/efi/grub.cfg" "$iso_tree/boot/grub/grub.cfg"
  find "$tree" -exec touch -h -d "$FAT_EPOCH" {} +
  local kib=$(( $(du -s --block-size=1K --apparent-size "$tree" | cut -f1) + EFI_IMAGE_SLACK_KIB ))
  [ "$kib" -le "$EL_TORITO_MAX_KIB" ] \
    || die "the EFI boot image needs $kib KiB, more than El Torito can describe ($EL_TORITO_MAX_KIB KiB): it should hold only shim and GRUB"
  # --invariant: a fixed volume serial and creation time, so equal inputs give equal bytes.
  mkfs.fat --invariant -C -n REBAKE_EFI "$dest" "$kib" >/dev/null \
    || die "mkfs.fat could not make the $kib KiB EFI boot image $dest"
  (cd "$tree" && LC_ALL=C MTOOLS_SKIP_CHECK=1 mcopy -s -m -Q -i "$dest" EFI ::/) \
    || die "mcopy could not fill the EFI boot image $dest"
}

main() {
  ensure_host_packages
  mkdir -p "$out"
  # Parallel test runs call this script too: one builds, the others wait and find it cached.
  exec 9>"$out/.build.lock"
  flock 9
  local iso="$out/$ISO_NAME" stamp="$out/$ISO_NAME.inputs-sha256"

  kernel_pkg=$(kernel_package)
  [ -n "$kernel_pkg" ] || die "apt knows no linux-image-amd64 dependency; run 'apt-get update' (Debian 12 sources needed)"
  local packages=("$kernel_pkg" "${TOOL_PACKAGES[@]}" "${EFI_PACKAGES[@]}")
  mapfile -t -O ${#packages[@]} packages < <(library_packages)
  mapfile -t PINNED < <(candidate_versions "${packages[@]}")
  local p v pin unpinned=()
  for p in "${packages[@]}"; do
    printf '%s\n' "${PINNED[@]}" | grep -q "^$p=" || unpinned+=("$p")
  done
  # Once, under parallel test runs, one package of the closure came back without a candidate and
  # was there a moment later: ask again for those before calling the package list stale.
  if [ ${#unpinned[@]} -gt 0 ]; then
    log "asking apt again for ${unpinned[*]}"
    mapfile -t -O ${#PINNED[@]} PINNED < <(candidate_versions "${unpinned[@]}")
    for p in "${unpinned[@]}"; do
      printf '%s\n' "${PINNED[@]}" | grep -q "^$p=" || die "apt has no candidate version for package '$p'; run 'apt-get update'"
    done
  fi
  # One order whichever way the versions were gathered: they are part of the input hash.
  mapfile -t PINNED < <(printf '%s\n' "${PINNED[@]}" | LC_ALL=C sort -u)
  local hash; hash=$(input_hash)
  if [ "$force" -eq 0 ] && [ -f "$iso" ] && [ -f "$out/kvm-probe/vmlinuz" ] && [ -f "$out/kvm-probe/init.cpio.gz" ] \
    && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
    log "up to date (inputs $hash)"
    echo "$iso"; return 0
  fi

  log "building $ISO_NAME from ${#PINNED[@]} Debian packages (inputs $hash)"
  local debs="$out/debs"
  mkdir -p "$debs"
  local missing=()
  for pin in "${PINNED[@]}"; do
    p=${pin%%=*}; v=${pin#*=}
    compgen -G "$debs/${p}_${v//:/%3a}_*.deb" >/dev/null || missing+=("$pin")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    # apt's _apt sandbox user cannot write into a root-owned build dir; downloads are checked by apt.
    (cd "$debs" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "${missing[@]}" >/dev/null) \
      || die "apt-get download failed for: ${missing[*]}"
  fi

  work=$(mktemp -d "$out/.work.XXXXXX")
  # shellcheck disable=SC2064 # expanded now: the locals are gone when the trap runs
  trap "rm -rf '$work' '$iso.tmp'" EXIT
  pkgs="$work/pkgs"
  mkdir -p "$pkgs"
  for pin in "${PINNED[@]}"; do
    p=${pin%%=*}; v=${pin#*=}
    dpkg-deb -x "$(compgen -G "$debs/${p}_${v//:/%3a}_*.deb" | head -n1)" "$pkgs"
  done
  kver=${kernel_pkg#linux-image-}
  moddir="$pkgs/lib/modules/$kver"
  depmod -b "$pkgs" "$kver"

  local iso_tree="$work/iso" installer="$work/installer" boot="$work/boot" system="$work/system"
  mkdir -p "$iso_tree/isolinux" "$iso_tree/boot"

  # The installed system: busybox userland, qemu-ga, the modules, testos/rootfs on top.
  install_busybox "$system"
  local prog
  for prog in "${SYSTEM_PROGRAMS[@]}"; do copy_elf "$system" "$prog"; done
  install_modules "$system" "${SYSTEM_MODULES[@]}"
  cp -a "$repo/testos/rootfs/." "$system/"
  mkdir -p "$system"/{proc,sys,dev,run,tmp,root,mnt,var/log,var/tmp,boot,usr/share}
  chmod 1777 "$system/tmp" "$system/var/tmp"
  ln -s ../run "$system/var/run"
  # Zone files only (no posix/ and right/ variants): enough for /etc/localtime from `timezone`.
  (cd "$pkgs/usr/share" && tar -cf - --exclude=zoneinfo/posix --exclude=zoneinfo/right zoneinfo) | tar -xf - -C "$system/usr/share"
  printf 'NAME="rebake test OS"\nID=rebake-testos\nVERSION_ID=%s\nKERNEL=%s\n' "${hash:0:12}" "$kver" > "$system/etc/os-release"
  find "$system" -exec touch -h -d @0 {} +
  (cd "$system" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - .) | gzip -n -9 > "$iso_tree/system.tar.gz"

  # The installed system's initramfs: loads the disk modules and switches to the root file system.
  install_busybox "$boot"
  install_modules "$boot" "${BOOT_MODULES[@]}"
  install -m 0755 "$repo/testos/initramfs/init" "$boot/init"
  mkdir -p "$boot"/{proc,sys,dev,newroot}
  pack_initramfs "$boot" "$iso_tree/boot/initrd.gz"

  # The installer's initramfs: partitions, formats, unpacks system.tar.gz, installs extlinux (BIOS)
  # or shim + GRUB (UEFI).
  install_busybox "$installer"
  for prog in "${INSTALLER_PROGRAMS[@]}"; do copy_elf "$installer" "$prog"; done
  install_modules "$installer" "${INSTALLER_MODULES[@]}"
  install -D -m 0644 "$pkgs/etc/mke2fs.conf" "$installer/etc/mke2fs.conf"
  install -D -m 0644 "$pkgs/usr/lib/syslinux/mbr/mbr.bin" "$installer/usr/lib/syslinux/mbr/mbr.bin"
  install -D -m 0644 "$pkgs/$SHIM_EFI" "$installer/$SHIM_EFI"
  install -D -m 0644 "$pkgs/$GRUB_EFI" "$installer/$GRUB_EFI"
  install -m 0755 "$repo/testos/installer/init" "$installer/init"
  mkdir -p "$installer"/{proc,sys,dev,media,target,tmp}
  pack_initramfs "$installer" "$iso_tree/boot/installer.gz"

  install -m 0644 "$pkgs/boot/vmlinuz-$kver" "$iso_tree/boot/vmlinuz"

  # The KVM probe's payload (src/hypervisors/qemu/kvm-probe.ts): the same 64-bit kernel with an
  # initramfs of static busybox and an init that prints a marker from user space.
  local probe="$work/probe" probe_out="$work/kvm-probe"
  mkdir -p "$probe/bin" "$probe_out"
  install -m 0755 "$pkgs/bin/busybox" "$probe/bin/busybox"
  install -m 0755 "$repo/testos/kvm-probe/init" "$probe/init"
  pack_initramfs "$probe" "$probe_out/init.cpio.gz"
  install -m 0644 "$pkgs/boot/vmlinuz-$kver" "$probe_out/vmlinuz"
  install -m 0644 "$pkgs/usr/lib/ISOLINUX/isolinux.bin" "$iso_tree/isolinux/isolinux.bin"
  install -m 0644 "$pkgs/usr/lib/syslinux/modules/bios/ldlinux.c32" "$iso_tree/isolinux/ldlinux.c32"
  install -m 0644 "$repo/testos/isolinux/isolinux.cfg" "$iso_tree/isolinux/isolinux.cfg"
  build_efi_image "$iso_tree" "$iso_tree/boot/efiboot.img"
  # The installer recognises its own medium by this file; it also records what was built.
  { echo "rebake test OS, inputs sha256 $hash"; printf '%s\n' "${PINNED[@]}"; } > "$iso_tree/REBAKE-TESTOS"

  xorriso -as mkisofs -o "$iso.tmp" -V "$VOLUME_ID" -J -r \
    -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
    -eltorito-alt-boot -e boot/efiboot.img -no-emul-boot \
    "$iso_tree" 2>"$work/xorriso.log" || { cat "$work/xorriso.log" >&2; die "xorriso failed to write $iso.tmp"; }
  rm -rf "$out/kvm-probe" && mv "$probe_out" "$out/kvm-probe"
  mv -f "$iso.tmp" "$iso"
  echo "$hash" > "$stamp.tmp" && mv -f "$stamp.tmp" "$stamp"
  log "wrote $iso ($(du -h "$iso" | cut -f1))"
  echo "$iso"
}

main
