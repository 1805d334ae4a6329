#!/bin/sh
# Schema-validates deploy/kubernetes with kubernetes-models (see
# kubernetes/validate.mjs), then each overlay of deploy/kubernetes-overlays,
# rendered by validate.mjs (no kustomize binary needed). Needs node and npm; installs the pinned packages
# from kubernetes/package-lock.json unless node_modules already holds them.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# The repository root: NSEXP_SOURCE_DIR (set by CTest) or two levels up.
root=${NSEXP_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
pkg="$here/kubernetes"

for tool in node npm; do
    command -v "$tool" >/dev/null 2>&1 || { echo "check_kubernetes: $tool not found" >&2; exit 1; }
done

# Reuse an installed tree when it matches the lock file (works offline);
# otherwise install exactly what the lock file says.
if [ -d "$pkg/node_modules" ] && (cd "$pkg" && npm ls --offline >/dev/null 2>&1); then
    echo "check_kubernetes: using the installed node_modules"
else
    (cd "$pkg" && npm ci --no-audit --no-fund --prefer-offline)
fi

node "$pkg/validate.mjs" "$root/deploy/kubernetes"
for overlay in "$root"/deploy/kubernetes-overlays/*/; do
    node "$pkg/validate.mjs" --overlay "$overlay"
done
