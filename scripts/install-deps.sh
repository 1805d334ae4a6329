#!/usr/bin/env bash
# Installs what building (and, with --test, testing) the exporter needs, from
# Debian 12 packages only, and fetches the source of Debian's civetweb
# package, which the build compiles with TLS (OpenSSL 3) and IPv6 (Debian's
# binary libcivetweb1 has neither). Idempotent: installs nothing that is
# already there, runs apt-get update only when something is missing, and
# fetches the source once.
#
#   --test         also the packages the tests need
#   --source-only  only fetch the CivetWeb source (the image's build stage)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# The source package CMake builds CivetWeb from, and where it goes: a
# directory that git and the image's build context ignore.
civetweb_version=1.15+dfsg-4
civetweb_dir=$here/third_party/civetweb

build_pkgs=(
  build-essential cmake ninja-build pkg-config git
  prometheus-cpp-dev libyaml-cpp-dev libcli11-dev
  libcap-dev libcrypt-dev libssl-dev zlib1g-dev dpkg-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# clang-14 and libclang-rt-14-dev: the fuzz preset (libFuzzer, clang's
# sanitizer runtimes); clang-tidy-14 and cppcheck: scripts/lint.sh; wrk:
# the load test (tests/load).
test_pkgs=(
  prometheus iproute2 util-linux procps curl python3 systemd
  clang-format podman runc debootstrap
  qemu-system-x86 kmod xz-utils zstd
  clang-14 libclang-rt-14-dev clang-tidy-14 cppcheck wrk
  chromium
)

want=("${build_pkgs[@]}")
with_test=0
source_only=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1; want+=("${test_pkgs[@]}") ;;
    --source-only) source_only=1 ;;
    -h|--help)
      echo "usage: $0 [--test] [--source-only]   (run as root)"; exit 0 ;;
    *) echo "$0: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# Prints the URI of the Debian archive that apt is configured with for
# bookworm main (deb822 .sources or one-line .list), or deb.debian.org.
bookworm_mirror() {
  local f uri=
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
      /(^|\n)Types:[^\n]*deb/ && /(^|\n)Suites:[^\n]*bookworm( |$|\n)/ &&
      /(^|\n)Components:[^\n]*main/ {
        for (i = 1; i <= NF; i++)
          if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); print a[2]; exit }
      }' "$f")
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++;
                         if ($2 ~ /^\[/) i++;
                         if ($(i + 1) == "bookworm") { print $i; exit } }')
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# Fetches (apt-get source) and unpacks Debian's civetweb source package into
# $civetweb_dir, adding a deb-src entry for bookworm main when apt has none.
fetch_civetweb_source() {
  local stamp=$civetweb_dir/.debian-version
  if [ -f "$civetweb_dir/src/civetweb.c" ] && [ -f "$stamp" ] &&
     [ "$(cat "$stamp")" = "$civetweb_version" ]; then
    return 0
  fi
  if ! apt-cache showsrc civetweb 2>/dev/null |
       grep -qx "Version: $civetweb_version"; then
    if [ "$(id -u)" != 0 ]; then
      echo "$0: apt has no deb-src entry for civetweb $civetweb_version; run as root to add one" >&2
      exit 1
    fi
    local list=/etc/apt/sources.list.d/linux-namespace-exporter-src.sources
    if [ ! -f "$list" ]; then
      printf '%s\n' "Types: deb-src" "URIs: $(bookworm_mirror)" \
        "Suites: bookworm" "Components: main" \
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" >"$list"
    fi
    apt-get update -q
  fi
  local tmp
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/civetweb-src.XXXXXX")
  chmod 755 "$tmp"  # apt downloads as the _apt user where it can
  # shellcheck disable=SC2064  # expand $tmp now
  trap "rm -rf '$tmp'" EXIT
  (cd "$tmp" && apt-get source -q "civetweb=$civetweb_version" >&2)
  local unpacked
  unpacked=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'civetweb-*')
  if [ ! -f "$unpacked/src/civetweb.c" ]; then
    echo "$0: apt-get source civetweb=$civetweb_version gave no src/civetweb.c" >&2
    exit 1
  fi
  echo "$civetweb_version" >"$unpacked/.debian-version"
  rm -rf "$civetweb_dir"
  mkdir -p "$(dirname "$civetweb_dir")"
  mv "$unpacked" "$civetweb_dir"
  rm -rf "$tmp"
  trap - EXIT
  echo "CivetWeb source $civetweb_version in $civetweb_dir"
}

if [ "$source_only" = 1 ]; then
  fetch_civetweb_source
  exit 0
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
# The Kubernetes manifest checks run on Node.js; the machine may already
# have a newer one than Debian's, which is fine.
if [ "$with_test" = 1 ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "$0: missing packages: ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

fetch_civetweb_source

if [ "$with_test" = 1 ]; then
  # The kernel matrix (tests/kernels): Debian's own kernels, downloaded and
  # unpacked into a cache outside the tree, never installed.
  python3 "$here/tests/kernels/kernel_vm.py" fetch
  if [ -f "$here/tests/deploy/kubernetes/package-lock.json" ]; then
    (cd "$here/tests/deploy/kubernetes" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
