#!/usr/bin/env bash
# Makes the Debian 12 base image that the Dockerfile builds on, without any
# container registry: debootstrap a minimal bookworm root file system from the
# Debian mirror, trim it the way the usual "slim" images are trimmed, and
# `podman import` it into the local image store.
#
#   scripts/make-base-image.sh            # makes localhost/debian:bookworm-slim
#   scripts/make-base-image.sh --force    # makes it again even if it exists
#
# Environment:
#   BASE_IMAGE       tag to create (default localhost/debian:bookworm-slim,
#                    which the tests pass to the Dockerfile as BASE_IMAGE)
#   MIRROR           Debian mirror URL (default: debootstrap's own default)
#   SECURITY_MIRROR  Debian security mirror URL (default: MIRROR with
#                    "-security" appended, as the official mirror lays it out)
#   DEBOOTSTRAP_CACHE  directory for downloaded .debs, kept between runs
#                    (default /var/cache/nsexp-debootstrap; empty: no cache)
#
# Idempotent: if the tag is already in podman's store, it says so and does
# nothing. Needs root, podman and debootstrap (apt-get install podman
# debootstrap). Where podman's configured storage driver cannot work (in a
# container on an overlay file system) it uses one that can, as
# scripts/podman-storage.sh says; PODMAN_STORAGE_DRIVER forces one. Exits 77
# when no driver works. Prints how long it took.
set -euo pipefail

tag=${BASE_IMAGE:-localhost/debian:bookworm-slim}
suite=bookworm
mirror=${MIRROR:-}
cache=${DEBOOTSTRAP_CACHE-/var/cache/nsexp-debootstrap}
force=0

for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$0: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

start=$(date +%s.%N)
elapsed() { awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

for tool in podman debootstrap; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$0: $tool not found; install it with: apt-get install podman debootstrap" >&2
    exit 1
  fi
done
if [ "$(id -u)" != 0 ]; then
  echo "$0: debootstrap and podman's root store need root" >&2
  exit 1
fi

# shellcheck source=scripts/podman-storage.sh
. "$(dirname "$0")/podman-storage.sh"
if ! podman_choose_storage; then
  echo "$0: $podman_storage_reason" >&2
  exit 77
fi

if [ "$force" = 0 ] && podman image exists "$tag"; then
  echo "base image $tag already exists; nothing to do ($(elapsed) s)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/base-image.XXXXXX")
cleanup() { rm -rf --one-file-system "$work"; }
trap cleanup EXIT
root=$work/rootfs

echo "debootstrap --variant=minbase $suite into a temporary directory..."
db_args=(--variant=minbase --merged-usr)
if [ -n "$cache" ]; then
  mkdir -p "$cache"
  db_args+=(--cache-dir="$cache")
fi
# The mirror argument is optional: without it debootstrap uses its default.
# shellcheck disable=SC2086
if ! debootstrap "${db_args[@]}" "$suite" "$root" $mirror >"$work/debootstrap.log" 2>&1; then
  echo "$0: debootstrap failed; its log:" >&2
  tail -n 40 "$work/debootstrap.log" >&2
  exit 1
fi
echo "debootstrap done ($(elapsed) s)"

# apt sources: the suite, its updates and its security archive, as the
# official images have them. The mirror is the one debootstrap just used.
used_mirror=$(awk '$1 == "deb" { print $2; exit }' "$root/etc/apt/sources.list")
security=${SECURITY_MIRROR:-${used_mirror%/}-security}
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $used_mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

# Slim: no documentation, manual pages or translations, now or from later
# apt-get installs; no package lists or .debs left in the image; no
# recommended packages by default.
cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
cat >"$root/etc/apt/apt.conf.d/90slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
  "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log \
  "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
# Per-machine files: the container runtime provides these.
rm -f "$root/etc/hostname" "$root/etc/resolv.conf"
: >"$root/etc/machine-id"

echo "podman import as $tag..."
tar --numeric-owner --xattrs --acls -C "$root" -cf - . |
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --message "debootstrap --variant=minbase $suite" \
    - "$tag" >/dev/null

size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "base image $tag made: $((size / 1000000)) MB, in $(elapsed) s"
