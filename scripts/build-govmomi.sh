#!/usr/bin/env bash
# Builds govc and vcsim (govmomi's vCenter simulator) from Debian's govmomi source package, for the
# vSphere driver's integration tests. Installs golang-go and the govmomi Go sources it needs from
# apt, fetches the source package through a private apt configuration (a deb-src entry in a temp
# dir; the system's sources are never touched), and builds in GOPATH mode against /usr/share/gocode.
#
# Usage: scripts/build-govmomi.sh [--force] [--out DIR]
# Prints the directory holding govc and vcsim. Cached: nothing is rebuilt while both binaries exist
# and the recorded source version matches the version apt offers.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/build/govmomi"
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --out) out=$(realpath -m "$2"); shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-govmomi: unknown argument '$1' (use --force, --out DIR or --help)" >&2; exit 2 ;;
  esac
  shift
done

readonly SOURCE_PACKAGE=golang-github-vmware-govmomi
# The Go toolchain plus the Go sources govc and vcsim import (the -dev package pulls in the rest).
readonly HOST_PACKAGES=(golang-go golang-github-vmware-govmomi-dev golang-github-kr-pretty-dev)
readonly IMPORT_PATH=github.com/vmware/govmomi
readonly SYSTEM_GOPATH=/usr/share/gocode
readonly KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
readonly SOURCES_DIR=/etc/apt/sources.list.d
bin="$out/bin"
version_file="$out/version"

log() { echo "build-govmomi: $*" >&2; }
die() { echo "build-govmomi: error: $*" >&2; exit 1; }

ensure_host_packages() {
  "$repo/scripts/install-system-deps.sh" "${HOST_PACKAGES[@]}" >&2 \
    || die "could not install ${HOST_PACKAGES[*]} (apt's error is above)"
}

# The source version is the -dev package's version: both come from the same source package.
wanted_version() {
  dpkg-query -W -f='${Version}' golang-github-vmware-govmomi-dev 2>/dev/null \
    || apt-cache policy golang-github-vmware-govmomi-dev | awk '/Candidate:/{print $2}'
}

# The first Debian main archive the system already uses (deb822 .sources or one-line .list), so
# deb-src comes from the same mirror, suite and key. Prints "URI SUITE".
debian_mirror() {
  local f
  for f in "$SOURCES_DIR"/*.sources; do
    [ -e "$f" ] || continue
    awk '
      /^URIs:/   { uri=$2 }
      /^Suites:/ { suite=$2 }
      /^$/       { if (uri ~ /debian\/?$/ && suite != "") { print uri, suite; found=1; exit } uri=""; suite="" }
      END        { if (!found && uri ~ /debian\/?$/ && suite != "") print uri, suite }
    ' "$f" | head -n1 | grep . && return 0
  done
  for f in /etc/apt/sources.list "$SOURCES_DIR"/*.list; do
    [ -e "$f" ] || continue
    sed -e 's/\[[^]]*\]//' "$f" | awk '$1=="deb" && $2 ~ /debian\/?$/ { print $2, $3; exit }' | grep . && return 0
  done
  return 1
}

# Parallel test files (every vcsim suite) call this script at once: one builds, the others wait
# here and then find the binaries cached. Without it they share bin.tmp and break each other's build.
mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9

if [ "$force" -eq 0 ] && [ -x "$bin/govc" ] && [ -x "$bin/vcsim" ] && [ -s "$version_file" ]; then
  recorded=$(cat "$version_file")
  current=$(wanted_version || true)
  if [ -z "$current" ] || [ "$recorded" = "$current" ]; then
    echo "$bin"
    exit 0
  fi
  log "recorded version $recorded differs from $current: rebuilding"
fi

ensure_host_packages
version=$(wanted_version) || die "no version of golang-github-vmware-govmomi-dev is known to apt"
read -r mirror suite < <(debian_mirror) || die "no Debian archive found in $SOURCES_DIR or /etc/apt/sources.list"

work=$(mktemp -d "${TMPDIR:-/tmp}/build-govmomi.XXXXXX")
trap 'rm -rf "$work"' EXIT
apt_dir="$work/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/parts" "$work/src"
echo "deb-src [signed-by=$KEYRING] $mirror $suite main" > "$apt_dir/sources.list"
# Every state apt writes (lists, caches) lives in the temp dir, so the system's apt state is unchanged.
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/parts"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Sandbox::User=root"
)
log "fetching $SOURCE_PACKAGE=$version source from $mirror $suite"
apt-get -qq "${apt_opts[@]}" update >&2 || die "apt-get update with the private deb-src entry failed"
(cd "$work/src" && apt-get -qq "${apt_opts[@]}" source "$SOURCE_PACKAGE=$version" >&2) \
  || die "apt-get source $SOURCE_PACKAGE=$version failed"
tree=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'golang-github-vmware-govmomi-*' | head -n1)
[ -n "$tree" ] || die "apt-get source produced no source tree in $work/src"

gopath="$work/gopath"
mkdir -p "$gopath/src/$(dirname "$IMPORT_PATH")"
mv "$tree" "$gopath/src/$IMPORT_PATH"
log "building govc and vcsim (GOPATH mode, about a minute)"
mkdir -p "$out"
staging="$out/bin.tmp"
rm -rf "$staging"; mkdir -p "$staging"
(cd "$gopath/src/$IMPORT_PATH" \
  && GO111MODULE=off GOPATH="$gopath:$SYSTEM_GOPATH" GOFLAGS= go build -o "$staging/" ./vcsim ./govc >&2) \
  || die "go build of govc and vcsim failed"
rm -rf "$bin"
mv "$staging" "$bin"
echo "$version" > "$version_file.tmp" && mv "$version_file.tmp" "$version_file"
log "built $("$bin/govc" version 2>/dev/null || echo govc) in $bin"
echo "$bin"
