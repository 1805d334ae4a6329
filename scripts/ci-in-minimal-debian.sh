#!/usr/bin/env bash
# Runs CI as a new user's machine would: a clean clone of a branch, in a
# minimal Debian 12 (debootstrap --variant=minbase, the image that
# scripts/make-base-image.sh makes), in a privileged podman container,
# executing `CI=true bash .ci/run` there. Needs no container registry.
#
#   scripts/ci-in-minimal-debian.sh                  # the main branch
#   scripts/ci-in-minimal-debian.sh --branch NAME    # another branch
#
# Options:
#   --branch NAME   branch to clone (default main)
#   --repo DIR      repository to clone from (default: the one holding this
#                   script)
#   --keep          keep the clone (and its build directory) afterwards
#
# Environment:
#   BASE_IMAGE      minimal Debian 12 image (default
#                   localhost/debian:bookworm-slim, made if missing)
#   MIRROR, SECURITY_MIRROR, DEBOOTSTRAP_CACHE  passed on to
#                   scripts/make-base-image.sh
#   PODMAN_RUNTIME  OCI runtime (default runc)
#   PODMAN_STORAGE_DRIVER  see scripts/podman-storage.sh
#
# The container shares the host's network (for the Debian mirror) and is
# privileged, as a CI runner that itself runs in a container usually is:
# the tests make namespaces, and the container image test runs podman
# inside it. Its resource limits are set no higher than this shell's. The
# machine's local CA certificates (/usr/local/share/ca-certificates, which
# the container's ca-certificates package takes in when apt installs it)
# and NODE_EXTRA_CA_CERTS are passed in, so that a network whose TLS goes
# through a proxy with its own CA works in the container as on the host.
# Needs root, podman, runc, debootstrap and git. The whole output is also
# written to ci-in-minimal-debian.log in the working directory; the exit
# status is that of .ci/run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
branch=main
keep=0
image=${BASE_IMAGE:-localhost/debian:bookworm-slim}
runtime=${PODMAN_RUNTIME:-runc}

while [ $# -gt 0 ]; do
  case "$1" in
    --branch) branch=${2:?--branch needs a name}; shift 2 ;;
    --repo) repo=${2:?--repo needs a directory}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$0: unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "$0: podman's root store and a privileged container need root" >&2
  exit 1
fi
for tool in podman "$runtime" debootstrap git; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$0: $tool not found (apt-get install podman runc debootstrap git)" >&2
    exit 1
  fi
done

# shellcheck source=scripts/podman-storage.sh
. "$here/podman-storage.sh"
if ! podman_choose_storage; then
  echo "$0: $podman_storage_reason" >&2
  exit 1
fi

start=$(date +%s)
log=$PWD/ci-in-minimal-debian.log
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ci-minimal.XXXXXX")
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  if [ "$keep" = 1 ]; then
    echo "clone kept in $work/src"
  else
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT

BASE_IMAGE=$image "$here/make-base-image.sh"

git clone --quiet --no-hardlinks --branch "$branch" --single-branch "$repo" "$work/src"
echo "clean clone of $branch at $(git -C "$work/src" rev-parse --short=12 HEAD)"

# Limits at or below this shell's: a session without CAP_SYS_RESOURCE cannot
# raise a hard limit, and podman's defaults are above most shells' (see
# tests/container/check_image.sh).
nproc=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; then nproc=$pid_max; fi

trust=()
local_ca=/usr/local/share/ca-certificates
if [ -n "$(find "$local_ca" -name '*.crt' 2>/dev/null | head -n 1)" ]; then
  trust+=(-v "$local_ca:$local_ca:ro")
fi
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  trust+=(-e "NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS")
fi

status=0
podman run --rm --privileged --network=host \
  --runtime "$runtime" --cgroup-manager=cgroupfs \
  --ulimit "nofile=$(ulimit -Sn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc" \
  "${trust[@]}" -v "$work/src:/src" -w /src -e CI=true \
  "$image" bash .ci/run 2>&1 | tee "$log" || status=$?
# tee's status is 0; the pipeline's is podman's (pipefail).
echo "ci-in-minimal-debian: .ci/run of $branch exited $status after $(( $(date +%s) - start )) s (log: $log)"
exit "$status"
