#!/usr/bin/env bash
# Builds the container image and checks it against this host, the way it is
# meant to be run: in the host's PID namespace, as uid 0 with every
# capability dropped except SYS_PTRACE and DAC_READ_SEARCH, read-only root,
# no-new-privileges.
#
#   tests/container/check_image.sh      (as root; CTest runs it as container.check_image)
#
# Steps: make the base image if it is missing (scripts/make-base-image.sh);
# `podman build` the image (layer cache allowed); make namespaces of our own
# on the host (a named net namespace from `ip netns add` with a process in it,
# and a pid namespace from `unshare --pid --fork --mount-proc`); run the image
# twice, once with the container's own /proc (the image's default) and once
# with the host's /proc bind-mounted at /host/proc (as deploy/kubernetes
# does); scrape /metrics from the host with curl; compare with what the host
# itself shows. Everything made is removed on exit.
#
# Environment: IMAGE (tag to build, default
# localhost/linux-namespace-exporter:check), BASE_IMAGE (passed to the build
# and to the base image script), PODMAN_RUNTIME (default runc),
# PODMAN_STORAGE_DRIVER (see scripts/podman-storage.sh: by default the
# configured driver, or vfs where that cannot work, as in a container).
# Prints one PASS or FAIL line per check and exits 1 if any failed; exits 77
# (skipped) with the reason when no podman storage driver works here.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
image=${IMAGE:-localhost/linux-namespace-exporter:check}
base_image=${BASE_IMAGE:-localhost/debian:bookworm-slim}
runtime=${PODMAN_RUNTIME:-runc}
tag=nsexp-check-$$
netns=$tag
work=$(mktemp -d "${TMPDIR:-/tmp}/$tag.XXXXXX")

failures=0
passes=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }
script_start=$(now)

containers=()
pids=()
netns_made=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local c p
  for c in "${containers[@]}"; do podman rm -f -t 2 "$c" >/dev/null 2>&1; done
  # SIGKILL: the sleep that unshare forked is pid 1 of its namespace and so
  # ignores SIGTERM, and unshare itself ignores SIGTERM while it waits for
  # that child; a plain kill would leave both running and `wait` hanging.
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ "$netns_made" = 1 ]; then ip netns del "$netns" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
  echo "container checks: $passes passed, $failures failed ($(since "$script_start") s)"
  if [ "$failures" -gt 0 ]; then exit 1; fi
  exit 0
}
# A step that the rest depends on failed: say so and stop.
abort() { fail "$*"; finish; }

# --- prerequisites ----------------------------------------------------------
[ "$(id -u)" = 0 ] || abort "must run as root (podman's root store, ip netns, unshare)"
missing=()
for tool in podman "$runtime" debootstrap curl ip unshare pgrep readlink awk; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ "${#missing[@]}" = 0 ] ||
  abort "missing tools: ${missing[*]} (apt-get install podman runc debootstrap curl iproute2 util-linux procps)"

# Container limits at or below the shell's, passed explicitly. This session
# may lack CAP_SYS_RESOURCE (bit 24 of CapEff in /proc/self/status), and then
# no process can raise a hard limit: podman's defaults (open files 1048576,
# processes above its own limit) make runc fail with "error setting rlimit
# type 6 (RLIMIT_NPROC): operation not permitted". podman's own process runs
# with RLIMIT_NPROC lowered to kernel.pid_max, so the container gets the
# smaller of the shell's hard limit and pid_max.
nproc=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; then nproc=$pid_max; fi
ulimits=(--ulimit "nofile=$(ulimit -Sn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc")
run_opts=(--runtime "$runtime" --cgroup-manager=cgroupfs)
# The same for `podman build --isolation=chroot`: its RUN steps start from
# RLIMIT_NPROC 32768, and now and then it asks to raise that to podman's own
# limit, which fails the step ("setting RLIMIT_NPROC limit to soft=68192 ...
# (was soft=32768,hard=32768): operation not permitted"). Asking for no more
# than 32768 never needs raising.
build_nproc=32768
if [ "$nproc" -lt "$build_nproc" ]; then build_nproc=$nproc; fi
build_ulimits=(--ulimit "nproc=$build_nproc:$build_nproc")

# A storage driver that works here: the configured one, or vfs inside a
# container on an overlay file system. The base image script chooses the
# same way, so both see one store.
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/podman-storage.sh
. "$src/scripts/podman-storage.sh"
if ! podman_choose_storage 2>"$work/storage.log"; then
  echo "container checks skipped: $podman_storage_reason" >&2
  exit 77
fi
if [ -s "$work/storage.log" ]; then cat "$work/storage.log"; fi

# --- base image and build ---------------------------------------------------
t=$(now)
if BASE_IMAGE=$base_image "$src/scripts/make-base-image.sh" >"$work/base.log" 2>&1; then
  pass "base image $base_image present ($(since "$t") s): $(tail -n 1 "$work/base.log")"
else
  cat "$work/base.log"
  abort "could not make base image $base_image"
fi

t=$(now)
revision=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if podman build --isolation=chroot --build-arg BASE_IMAGE="$base_image" \
    --build-arg REVISION="$revision" \
    "${build_ulimits[@]}" -t "$image" "$src" >"$work/build.log" 2>&1; then
  size=$(podman image inspect --format '{{.Size}}' "$image")
  pass "podman build $image ($(since "$t") s, $((size / 1000000)) MB)"
else
  tail -n 60 "$work/build.log"
  abort "podman build failed (last lines above)"
fi

# What scanners read: a dpkg record per runtime package, and the release.
listing=$work/image-files
if c=$(podman create "$image" 2>"$work/create.err") \
    && podman export "$c" | tar -t >"$listing" 2>/dev/null; then
  records=$(grep -c '^var/lib/dpkg/status.d/.' "$listing")
  missing_records=()
  for p in libc6 libssl3 libstdc++6 zlib1g base-files; do
    grep -qx "var/lib/dpkg/status.d/$p" "$listing" || missing_records+=("$p")
  done
  if [ "${#missing_records[@]}" = 0 ] && grep -qx 'etc/os-release' "$listing" \
      && ! grep -qx 'bin/sh\|usr/bin/sh\|usr/bin/dash\|usr/bin/apt-get' "$listing"; then
    pass "image holds $records dpkg records (status.d) and /etc/os-release, no shell or apt"
  else
    fail "image package metadata: missing records ${missing_records[*]:-none}; os-release or a shell/apt wrong"
  fi
else
  fail "could not list the image's files: $(tr '\n' ' ' <"$work/create.err")"
fi
[ -n "${c:-}" ] && podman rm -f "$c" >/dev/null 2>&1

# The image's metadata.
meta=$(podman image inspect --format \
  '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.ExposedPorts}}|{{index .Config.Labels "org.opencontainers.image.title"}}|{{index .Config.Labels "org.opencontainers.image.version"}}' \
  "$image")
if [ "$meta" = '0|["/usr/local/bin/linux_namespace_exporter"]|{"19101/tcp":{}}|linux_namespace_exporter|'"$(
      sed -n 's/^project(linux_namespace_exporter VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ]; then
  pass "image metadata: user 0, entrypoint, port 19101, OCI title and version"
else
  fail "image metadata not as expected: $meta"
fi

# --- namespaces of our own on the host ---------------------------------------
# A named net namespace, bound to /run/netns/NAME, with a process in it (the
# exporter finds namespaces through the processes in them).
if ip netns add "$netns"; then
  netns_made=1
else
  abort "ip netns add $netns failed"
fi
netns_inode=$(stat -L -c %i "/run/netns/$netns")
ip netns exec "$netns" sleep 900 &
netns_pid=$!
pids+=("$netns_pid")

# A new pid namespace: unshare forks, and its child (sleep) is pid 1 there.
unshare --pid --fork --kill-child --mount-proc sleep 900 &
unshare_pid=$!
pids+=("$unshare_pid")
child_pid=
for _ in $(seq 50); do
  child_pid=$(pgrep -P "$unshare_pid" | head -n 1)
  [ -n "$child_pid" ] && break
  sleep 0.1
done
[ -n "$child_pid" ] || abort "unshare --pid --fork did not start its child"
pids+=("$child_pid")
# The netns process must have exec'd sleep before its ns link is read.
for _ in $(seq 50); do
  [ "$(readlink "/proc/$netns_pid/ns/net" 2>/dev/null)" = "net:[$netns_inode]" ] && break
  sleep 0.1
done
link_inode() { readlink "$1" | sed -n 's/^[a-z_]*:\[\([0-9]*\)\]$/\1/p'; }
pidns_inode=$(link_inode "/proc/$child_pid/ns/pid")
host_pidns_inode=$(link_inode /proc/self/ns/pid)
netns_proc_inode=$(link_inode "/proc/$netns_pid/ns/net")
if [ -n "$pidns_inode" ] && [ "$pidns_inode" != "$host_pidns_inode" ] &&
   [ "$netns_proc_inode" = "$netns_inode" ]; then
  pass "made net namespace $netns (inode $netns_inode, pid $netns_pid) and pid namespace $pidns_inode (pid $child_pid)"
else
  abort "test namespaces not as expected: netns $netns_inode vs process $netns_proc_inode, pid ns '$pidns_inode' (host $host_pidns_inode)"
fi

# --- run and scrape -----------------------------------------------------------
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

metric_value() {  # NAME [LABELS-SUBSTRING] < metrics
  awk -v n="$1" -v l="${2:-}" '
    $1 == n || (index($1, n "{") == 1 && index($1, l) > 0) { print $2; exit }'
}
# linux_namespace_info lines with the given type and inode (labels in any order).
info_lines() {  # FILE TYPE INODE
  grep -E '^linux_namespace_info\{' "$1" |
    grep -E "[{,]type=\"$2\"[,}]" | grep -E "[{,]inode=\"$3\"[,}]"
}
label() {  # LINE NAME
  sed -n "s/.*[{,]$2=\"\\([^\"]*\\)\".*/\\1/p" <<<"$1"
}

# check_run NAME PROC-ARGS...: runs the image with the given extra podman
# arguments and exporter flags (after "--"), scrapes it, checks the output.
check_run() {
  local name=$1; shift
  local podman_extra=() flags=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do podman_extra+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  flags=("$@")

  local port c cid t
  port=$(free_port) || { fail "[$name] no free loopback port found"; return; }
  c=$tag-$name
  t=$(now)
  containers+=("$c")  # before the run: a failed start still leaves the container
  if ! cid=$(podman run -d --name "$c" "${run_opts[@]}" "${ulimits[@]}" \
      --pid=host --network=host \
      --cap-drop=ALL --cap-add=SYS_PTRACE --cap-add=DAC_READ_SEARCH \
      --read-only --security-opt no-new-privileges \
      "${podman_extra[@]}" "$image" \
      "${flags[@]}" --web.listen-address="127.0.0.1:$port" 2>"$work/run-$name.err"); then
    fail "[$name] podman run failed: $(tr '\n' ' ' <"$work/run-$name.err")"
    return
  fi

  local ready=0
  for _ in $(seq 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/-/ready" 2>/dev/null; then ready=1; break; fi
    if [ "$(podman inspect --format '{{.State.Running}}' "$c" 2>/dev/null)" != true ]; then break; fi
    sleep 0.1
  done
  if [ "$ready" != 1 ]; then
    fail "[$name] not ready on 127.0.0.1:$port; container state: $(podman inspect --format '{{.State.Status}} exit={{.State.ExitCode}}' "$c" 2>&1)"
    echo "---- container log:"; podman logs "$c" 2>&1 | tail -n 30; echo "----"
    return
  fi
  pass "[$name] container ${cid:0:12} ready on 127.0.0.1:$port in $(since "$t") s"

  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/-/healthy")
  if [ "$code" = 200 ]; then
    pass "[$name] /-/healthy answers 200"
  else
    fail "[$name] /-/healthy answers $code"
  fi

  # The exporter's process, seen from the host: uid 0, only the two
  # capabilities, no-new-privileges.
  local hpid status
  hpid=$(podman inspect --format '{{.State.Pid}}' "$c")
  status=$(cat "/proc/$hpid/status" 2>/dev/null)
  local uid capeff nnp want_caps
  uid=$(awk '$1 == "Uid:" { print $2 }' <<<"$status")
  capeff=$(awk '$1 == "CapEff:" { print $2 }' <<<"$status")
  nnp=$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$status")
  # CAP_DAC_READ_SEARCH is bit 2, CAP_SYS_PTRACE bit 19.
  want_caps=$(printf '%016x' $(((1 << 2) | (1 << 19))))
  if [ "$uid" = 0 ] && [ "$capeff" = "$want_caps" ] && [ "$nnp" = 1 ]; then
    pass "[$name] exporter (host pid $hpid) runs as uid 0 with CapEff=$capeff (DAC_READ_SEARCH, SYS_PTRACE) and NoNewPrivs=1"
  else
    fail "[$name] exporter (host pid $hpid): uid=$uid CapEff=$capeff (want $want_caps) NoNewPrivs=$nnp"
  fi
  # The image has no shell to try a write with: the kernel's view of the
  # container's root mount says whether it is read-only.
  local root_opts
  root_opts=$(awk '$5 == "/" { print $6; exit }' "/proc/$hpid/mountinfo" 2>/dev/null)
  if [[ ",$root_opts," == *,ro,* ]]; then
    pass "[$name] root file system is read-only ($root_opts)"
  else
    fail "[$name] root file system is not read-only: '${root_opts:-no root mount found}'"
  fi

  # Scrape, and count the host's processes right around it.
  local m=$work/metrics-$name host_before host_after
  host_before=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
  if ! curl -fsS -o "$m" "http://127.0.0.1:$port/metrics"; then
    fail "[$name] GET /metrics failed"
    return
  fi
  host_after=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
  pass "[$name] GET /metrics: $(wc -l <"$m") lines, $(grep -c '^linux_namespace_info{' "$m") namespaces"

  # Every namespace of the host's init process and of this shell.
  local type ino missing_ns=() seen=0
  for type in cgroup ipc mnt net pid time user uts; do
    for p in 1 self; do
      ino=$(link_inode "/proc/$p/ns/$type")
      [ -n "$ino" ] || continue
      seen=$((seen + 1))
      [ -n "$(info_lines "$m" "$type" "$ino")" ] || missing_ns+=("$type:$ino(pid $p)")
    done
  done
  if [ "${#missing_ns[@]}" = 0 ] && [ "$seen" -ge 8 ]; then
    pass "[$name] the host's namespaces of all eight types are in linux_namespace_info"
  else
    fail "[$name] host namespaces missing from linux_namespace_info: ${missing_ns[*]:-none} (checked $seen)"
  fi

  # The named net namespace, found through the process in it.
  local line
  line=$(info_lines "$m" net "$netns_inode" | head -n 1)
  if [ -n "$line" ] && [ "$(label "$line" pid)" = "$netns_pid" ]; then
    pass "[$name] net namespace $netns (inode $netns_inode) is in linux_namespace_info with pid=$netns_pid"
  else
    fail "[$name] net namespace $netns (inode $netns_inode, pid $netns_pid) not as expected: '${line:-absent}'"
  fi

  # The new pid namespace: its inode, its parent (the host's), its member.
  line=$(info_lines "$m" pid "$pidns_inode" | head -n 1)
  if [ -n "$line" ] && [ "$(label "$line" parent_inode)" = "$host_pidns_inode" ] &&
     [ "$(label "$line" pid)" = "$child_pid" ] && [ "$(label "$line" command)" = sleep ]; then
    pass "[$name] pid namespace $pidns_inode is in linux_namespace_info with parent_inode=$host_pidns_inode, pid=$child_pid, command=sleep"
  else
    fail "[$name] pid namespace $pidns_inode (parent $host_pidns_inode, pid $child_pid) not as expected: '${line:-absent}'"
  fi
  local depth
  depth=$(metric_value linux_namespace_depth "inode=\"$pidns_inode\"" <"$m")
  if [ "$depth" = 1 ]; then
    pass "[$name] linux_namespace_depth of the new pid namespace is 1"
  else
    fail "[$name] linux_namespace_depth of the new pid namespace is '${depth:-absent}', want 1"
  fi

  # processes_scanned against the host's count (which moves a little).
  local scanned lo hi slack
  scanned=$(metric_value linux_namespace_exporter_processes_scanned <"$m")
  lo=$host_before; hi=$host_after
  [ "$lo" -le "$hi" ] || { lo=$host_after; hi=$host_before; }
  slack=$((5 + hi / 20))
  if [ -n "$scanned" ] && [ "${scanned%.*}" -ge $((lo - slack)) ] && [ "${scanned%.*}" -le $((hi + slack)) ]; then
    pass "[$name] processes_scanned=$scanned, host has $host_before..$host_after processes"
  else
    fail "[$name] processes_scanned=${scanned:-absent}, host has $host_before..$host_after processes (slack $slack)"
  fi

  # Enough privilege: (almost) nothing denied.
  local denied
  denied=$(metric_value linux_namespace_exporter_scrape_errors_total 'reason="permission_denied"' <"$m")
  if [ -n "$denied" ] && [ "${denied%.*}" -le $((2 + hi / 100)) ]; then
    pass "[$name] scrape_errors_total{reason=\"permission_denied\"}=$denied"
  else
    fail "[$name] scrape_errors_total{reason=\"permission_denied\"}=${denied:-absent}: the capabilities are not enough"
  fi

  podman rm -f -t 2 "$c" >/dev/null 2>&1
}

# 1. The image's default: the container's own /proc, which with --pid=host
#    is the host's process tree.
check_run default
# 2. The host's /proc bind-mounted at /host/proc, as deploy/kubernetes runs it.
check_run hostproc -v /proc:/host/proc:ro -- --path.procfs=/host/proc

finish
