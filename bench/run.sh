#!/usr/bin/env bash
# Runs the benchmark suite: sudo bench/run.sh [options of bench/run.py]
# Installs what it needs from Debian packages, then hands over to run.py,
# which makes and removes its own population of namespaced processes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    exec sudo -- "$0" "$@"
  fi
  echo "bench/run.sh: must run as root" >&2
  exit 1
fi

need=()
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v curl >/dev/null || need+=(curl)
command -v lsns >/dev/null || need+=(util-linux)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v python3 >/dev/null || need+=(python3)
fresh_node_exporter=0
if ! command -v prometheus-node-exporter >/dev/null &&
  ! command -v node_exporter >/dev/null; then
  need+=(prometheus-node-exporter)
  fresh_node_exporter=1
fi
if ((${#need[@]})); then
  echo "bench/run.sh: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian package starts a node_exporter on :9100 through systemd; the
# suite starts its own with only the processes collector, so the packaged
# one must not run beside it.
if ((fresh_node_exporter)) && [[ -d /run/systemd/system ]]; then
  systemctl disable --now prometheus-node-exporter >/dev/null 2>&1 || true
fi

exec python3 "$here/run.py" "$@"
