#!/usr/bin/env bash
# Installs what building (and, with --test, testing) the exporter needs, from
# Debian 12 packages only. Idempotent: installs nothing that is already
# there, and runs apt-get update only when something is missing.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libcli11-dev
  libcap-dev libcrypt-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
test_pkgs=(
  prometheus iproute2 util-linux procps curl python3 systemd
  clang-format podman runc debootstrap
  qemu-system-x86 kmod xz-utils zstd
)

want=("${build_pkgs[@]}")
with_test=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1; want+=("${test_pkgs[@]}") ;;
    -h|--help)
      echo "usage: $0 [--test]   (run as root)"; exit 0 ;;
    *) echo "$0: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

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

if [ "$with_test" = 1 ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  # The kernel matrix (tests/kernels): Debian's own kernels, downloaded and
  # unpacked into a cache outside the tree, never installed.
  python3 "$here/tests/kernels/kernel_vm.py" fetch
  if [ -f "$here/tests/deploy/kubernetes/package-lock.json" ]; then
    (cd "$here/tests/deploy/kubernetes" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
