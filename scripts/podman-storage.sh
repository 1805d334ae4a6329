# shellcheck shell=bash
# Sourced by the scripts that run podman (bash). Chooses a storage driver
# that works on this machine and makes every later `podman` call in the
# sourcing script use it.
#
#   . scripts/podman-storage.sh
#   podman_choose_storage || { echo "$podman_storage_reason"; exit 77; }
#
# The default store and driver (overlay on Debian) are kept where they
# work. Inside a container whose root file system is itself an overlay,
# podman's overlay driver cannot start ("'overlay' is not supported over
# overlayfs, a mount_program is required"). podman then falls back to vfs
# once, but the overlay directory it left makes every later call fail, and
# the store cannot be switched to a named driver afterwards (its database
# remembers the driver it was made with). So where the default store fails
# or has fallen back to vfs, a store of its own with the vfs driver, which
# copies layers instead of stacking them and works on any file system, is
# used instead.
# PODMAN_STORAGE_DRIVER=NAME forces one driver, in a store of its own in the
# same way.

podman_storage=()
podman_storage_reason=

# podman [ARGS...]: podman with the chosen storage options.
podman() { command podman "${podman_storage[@]}" "$@"; }

# podman_store_for DRIVER: sets podman_storage to the options of a store of
# its own for DRIVER, beside the default one.
podman_store_for() {
  podman_storage=(--storage-driver "$1"
    --root "/var/lib/containers/storage-$1"
    --runroot "/run/containers/storage-$1")
}

# podman_choose_storage: sets podman_storage and returns 0 when a driver
# works; otherwise sets podman_storage_reason and returns 1.
podman_choose_storage() {
  local err
  podman_storage=()
  if [ -n "${PODMAN_STORAGE_DRIVER:-}" ]; then
    podman_store_for "$PODMAN_STORAGE_DRIVER"
    if ! err=$(podman info --format '{{.Store.GraphDriverName}}' 2>&1 >/dev/null); then
      # shellcheck disable=SC2034  # read by the sourcing script
      podman_storage_reason="podman storage driver $PODMAN_STORAGE_DRIVER (PODMAN_STORAGE_DRIVER) does not work: $err"
      return 1
    fi
    return 0
  fi
  local out
  if ! out=$(podman info --format '{{.Store.GraphDriverName}}' 2>/dev/null) ||
     [ "$out" = vfs ]; then
    err=$(podman info 2>&1 >/dev/null | tail -n 1)
    podman_store_for vfs
    if podman info >/dev/null 2>&1; then
      echo "podman's default storage does not work here (${err:-it fell back to vfs}); using a vfs store of its own" >&2
      return 0
    fi
    podman_storage=()
    # shellcheck disable=SC2034  # read by the sourcing script
    podman_storage_reason="no podman storage driver works here: configured: $err; vfs: $(podman_store_for vfs; podman info 2>&1 >/dev/null | tail -n 1)"
    return 1
  fi
  return 0
}
