#!/usr/bin/env bash
# Packs each apps/files/src/<name>-<version>/ into apps/files/<name>-<version>.tar.gz, byte for byte
# reproducibly (sorted, owner 0, mtime 0, gzip -n), and writes the new sha256 into every
# apps/*.yaml whose source.path names that archive. The archives are committed; run this after
# changing a source folder and commit both.
#
# Usage: scripts/build-demo-apps.sh [--check]
#   --check  change nothing; exit 1 when an archive or a pinned sha256 is out of date.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
files="$repo/apps/files"
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "build-demo-apps: unknown argument '$1' (use --check)" >&2; exit 2 ;;
esac

pack() {
  local src=$1 dest=$2 stage
  stage=$(mktemp -d)
  cp -a "$src" "$stage/"
  find "$stage" -exec touch -h -d @0 {} +
  (cd "$stage" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=gnu -cf - "$(basename "$src")") \
    | gzip -n -9 > "$dest"
  rm -rf "$stage"
}

stale=0
for src in "$files"/src/*/; do
  src=${src%/}
  name=$(basename "$src")
  archive="$files/$name.tar.gz"
  pack "$src" "$archive.tmp"
  sum=$(sha256sum "$archive.tmp" | cut -d' ' -f1)
  if [ "$check" -eq 1 ]; then
    cmp -s "$archive.tmp" "$archive" || { echo "build-demo-apps: $archive is out of date; run scripts/build-demo-apps.sh" >&2; stale=1; }
    rm -f "$archive.tmp"
  else
    mv -f "$archive.tmp" "$archive"
  fi
  # The YAML line after `path: files/<archive>` is its `sha256:`.
  for yaml in "$repo"/apps/*.yaml; do
    grep -q "path: files/$name.tar.gz\$" "$yaml" || continue
    pinned=$(awk -v p="path: files/$name.tar.gz" 'index($0, p) {getline; sub(/.*sha256: */, ""); print; exit}' "$yaml")
    [ "$pinned" = "$sum" ] && continue
    if [ "$check" -eq 1 ]; then
      echo "build-demo-apps: $yaml pins $pinned for $name.tar.gz, the archive is $sum; run scripts/build-demo-apps.sh" >&2
      stale=1
    else
      awk -v p="path: files/$name.tar.gz" -v s="$sum" 'index($0, p) {print; getline; sub(/sha256: *.*/, "sha256: " s)} {print}' "$yaml" > "$yaml.tmp"
      mv -f "$yaml.tmp" "$yaml"
    fi
  done
  echo "$sum  apps/files/$name.tar.gz"
done
exit "$stale"
