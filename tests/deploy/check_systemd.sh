#!/bin/sh
# Verifies deploy/systemd/linux_namespace_exporter.service with
# `systemd-analyze verify` (which only warns, with exit status 0, about
# unknown directives and bad values: any diagnostic about the unit fails
# here) and keeps its sandboxing honest with `systemd-analyze security`.
# ExecStart must name an existing executable, so a copy of the unit that
# points at a dummy executable in a temporary directory is checked.
#
# Documentation= is checked apart from verify: verify looks each man: page up
# by running man(1), which a minimal system (no man-db, or manual pages
# excluded from installation as in the slim Debian images) cannot, so it
# runs with --man=no. Each entry must be a man: page or an https: URL; man:
# pages are looked up with `man -w` where man-db is installed and has
# manual pages, and said to be unchecked otherwise.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# The repository root: NSEXP_SOURCE_DIR (set by CTest) or two levels up.
root=${NSEXP_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
unit_name=linux_namespace_exporter.service
unit="$root/deploy/systemd/$unit_name"
binary=/usr/local/bin/linux_namespace_exporter
# Highest accepted exposure, in tenths (systemd-analyze security --threshold).
max_exposure=35

command -v systemd-analyze >/dev/null 2>&1 || { echo "check_systemd: systemd-analyze not found (Debian package systemd)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#!/bin/sh\nexit 0\n' >"$tmp/linux_namespace_exporter"
chmod 755 "$tmp/linux_namespace_exporter"

grep -q "^ExecStart=$binary " "$unit" || { echo "check_systemd: ExecStart must run $binary" >&2; exit 1; }

# verify UNIT_FILE: succeeds only if systemd-analyze exits 0 and prints
# nothing about the unit.
verify() {
    out="$tmp/verify.out"
    status=0
    (cd "$tmp" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$1") >"$out" 2>&1 || status=$?
    if [ "$status" -ne 0 ] || grep -q "$(basename "$1")" "$out"; then
        cat "$out"
        return 1
    fi
    return 0
}

# prepare SED_SCRIPT: the unit, pointed at the dummy binary, edited.
prepare() {
    sed -e "s#^ExecStart=$binary #ExecStart=$tmp/linux_namespace_exporter #" -e "$1" "$unit" >"$tmp/$unit_name"
}

echo "== systemd-analyze verify"
prepare ''
verify "$tmp/$unit_name"
echo "ok: no diagnostics"

echo "== Documentation="
# man_db_usable: man(1) is installed and finds at least one page of section
# 1 that dpkg installed (a system without manual pages finds none).
man_db_usable() {
    command -v man >/dev/null 2>&1 && man -w ls.1 >/dev/null 2>&1
}
# check_documentation UNIT_FILE: every Documentation= entry well formed,
# and each man: page present where man pages can be looked up.
check_documentation() {
    docs=$(sed -n 's/^Documentation=//p' "$1")
    [ -n "$docs" ] || { echo "check_systemd: no Documentation=" >&2; return 1; }
    for doc in $docs; do
        case "$doc" in
            man:*\(*\))
                page=${doc#man:}
                name=${page%%(*}
                section=${page#*(}
                section=${section%)}
                if man_db_usable; then
                    man -w "$name.$section" >/dev/null 2>&1 ||
                        { echo "check_systemd: Documentation=$doc: no such manual page" >&2; return 1; }
                    echo "ok: $doc found by man -w"
                else
                    echo "not checked: $doc (man-db or manual pages not installed)"
                fi ;;
            https://*) echo "ok: $doc is an https: URL (not fetched)" ;;
            *) echo "check_systemd: Documentation=$doc is neither man:PAGE(SECTION) nor https:" >&2; return 1 ;;
        esac
    done
}
check_documentation "$unit"

echo "== systemd-analyze security"
if ! (cd "$tmp" && systemd-analyze security --offline=yes --threshold="$max_exposure" "$tmp/$unit_name") >"$tmp/security.out" 2>&1; then
    cat "$tmp/security.out"
    echo "check_systemd: exposure above $max_exposure/100" >&2
    exit 1
fi
tail -n 1 "$tmp/security.out"

for directive in \
    'CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH' \
    'AmbientCapabilities=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH' \
    'NoNewPrivileges=yes' 'ProtectSystem=strict' \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
    'SystemCallFilter=@system-service'; do
    grep -qx "$directive" "$unit" || { echo "check_systemd: missing $directive" >&2; exit 1; }
done
for forbidden in '^DynamicUser=yes' '^ProtectProc=' '^ProcSubset='; do
    if grep -q "$forbidden" "$unit"; then
        echo "check_systemd: $forbidden would hide other processes from the exporter" >&2
        exit 1
    fi
done

echo "== self-test: broken units must be rejected"
expect_reject() {
    prepare "$2"
    if verify "$tmp/$unit_name" >/dev/null 2>&1; then
        echo "check_systemd: self-test '$1': accepted a broken unit" >&2
        exit 1
    fi
    echo "self-test ok: rejects $1"
}
expect_reject "a misspelt directive" 's/^NoNewPrivileges=/NoNewPrivilegs=/'
expect_reject "an invalid value" 's/^MemoryMax=.*/MemoryMax=lots/'
expect_reject "a missing executable" "s#^ExecStart=$tmp/linux_namespace_exporter #ExecStart=$tmp/absent #"
prepare 's#^Documentation=.*#Documentation=file:///nowhere#'
if check_documentation "$tmp/$unit_name" >/dev/null 2>&1; then
    echo "check_systemd: self-test 'a Documentation= of another scheme': accepted" >&2
    exit 1
fi
echo "self-test ok: rejects a Documentation= of another scheme"
if man_db_usable; then
    prepare 's#^Documentation=.*#Documentation=man:namespacez(7)#'
    if check_documentation "$tmp/$unit_name" >/dev/null 2>&1; then
        echo "check_systemd: self-test 'a misspelt manual page': accepted" >&2
        exit 1
    fi
    echo "self-test ok: rejects a misspelt manual page"
fi
echo "check_systemd: all passed"
