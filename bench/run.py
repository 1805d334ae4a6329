#!/usr/bin/env python3
"""Benchmark driver: populates the host with namespaced processes, times the
exporter's /metrics scrape against a C floor, lsns and node_exporter's
processes collector, and writes docs/performance.md and docs/performance.png.

Run through bench/run.sh (root). Standard library only.
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")
NS_TYPES = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"]
TOOLS = ["exporter", "floor", "lsns", "node_exporter"]
PR_SET_PDEATHSIG = 1

# Targets checked at the size nearest 10k processes.
TARGET_FLOOR_RATIO = 1.3
TARGET_LSNS_SPEEDUP = 10.0
TARGET_RSS_MIB = 16.0
TARGET_FLATNESS = 1.25


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the driver dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


# ---------------------------------------------------------------- system ---


def read_int(path):
    with open(path) as f:
        return int(f.read().split()[0])


def write_sysctl(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def count_processes():
    return sum(1 for n in os.listdir("/proc") if n.isdigit())


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def proc_cpu_seconds(pid):
    """utime+stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def cpu_busy_seconds():
    """CPU seconds all CPUs spent busy since boot (/proc/stat: all but idle
    and iowait)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # guest time is already counted in user and nice
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    """CPU seconds of this driver and of its children it waited for."""
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def wait_for_quiet(timeout, threshold=0.25):
    """Waits until the machine's CPUs are busy less than `threshold` cores
    for three seconds in a row; returns the last one-second figure."""
    deadline = time.time() + timeout
    calm = 0
    busy = float("nan")
    while True:
        b0 = cpu_busy_seconds()
        time.sleep(1)
        busy = cpu_busy_seconds() - b0
        calm = calm + 1 if busy < threshold else 0
        if calm >= 3 or time.time() > deadline:
            return busy


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Limits:
    """Raises the kernel and rlimit limits a root process may raise, and
    restores the sysctls on exit."""

    # Original values of raised sysctls, kept on disk until restored, so a
    # run killed with SIGKILL is undone by the next one.
    STATE = "/run/nsbench.sysctl.json"

    def __init__(self):
        self.saved = {}
        self.notes = []
        self._restore_stale()

    def _restore_stale(self):
        try:
            with open(self.STATE) as f:
                stale = json.load(f)
        except (OSError, ValueError):
            return
        for path, value in stale.items():
            try:
                write_sysctl(path, value)
                log(f"restored {path} = {value}, left raised by an interrupted run")
            except OSError:
                pass
        os.unlink(self.STATE)

    def _save_state(self):
        try:
            with open(self.STATE, "w") as f:
                json.dump(self.saved, f)
        except OSError:
            pass

    def raise_to(self, path, value):
        try:
            cur = read_int(path)
        except OSError as e:
            self.notes.append(f"{path}: unreadable ({e.strerror})")
            return
        if cur >= value:
            return
        try:
            self.saved[path] = cur
            self._save_state()
            write_sysctl(path, value)
            self.notes.append(f"{path}: raised {cur} -> {value} (restored after)")
        except OSError as e:
            self.notes.append(f"{path}: could not raise {cur} -> {value} ({e.strerror})")

    def prepare(self, max_processes):
        need = max_processes + 4096
        # Pids are allocated per pid namespace level: the host level needs one
        # per process, so pid_max bounds the population.
        self.raise_to("/proc/sys/kernel/pid_max", min(4194304, max(65536, 2 * need)))
        self.raise_to("/proc/sys/kernel/threads-max", 2 * need)
        for t in NS_TYPES:
            self.raise_to(f"/proc/sys/user/max_{t}_namespaces", need)
        for lim in (resource.RLIMIT_NPROC, resource.RLIMIT_NOFILE):
            soft, hard = resource.getrlimit(lim)
            want = resource.RLIM_INFINITY if lim == resource.RLIMIT_NPROC else 65536
            try:
                resource.setrlimit(lim, (want, want))
            except (ValueError, OSError):
                try:
                    resource.setrlimit(lim, (hard, hard))
                except (ValueError, OSError):
                    pass
        soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
        self.notes.append(
            "ulimit -u: " + ("unlimited" if soft == resource.RLIM_INFINITY else str(soft)))
        pid_max = read_int("/proc/sys/kernel/pid_max")
        threads_max = read_int("/proc/sys/kernel/threads-max")
        ns_max = min(read_int(f"/proc/sys/user/max_{t}_namespaces") for t in NS_TYPES)
        cap = min(pid_max, threads_max) - 4096
        if soft != resource.RLIM_INFINITY:
            cap = min(cap, soft - count_processes() - 512)
        # Each set of 8 makes at most 7 namespaces; leave room for the rest.
        cap = min(cap, ns_max * 8)
        return cap

    def restore(self):
        for path, value in self.saved.items():
            try:
                write_sysctl(path, value)
            except OSError:
                pass
        self.saved.clear()
        try:
            os.unlink(self.STATE)
        except OSError:
            pass


# ------------------------------------------------------------ population ---


class Population:
    """The populate program: grows a process group of namespaced sleepers and
    kills all of it on close()."""

    def __init__(self, binary, set_size, workdir):
        self.proc = None
        self.binary = binary
        self.set_size = set_size
        self.cgroup = None
        self.workdir = workdir
        self.created = 0
        self.sets = 0

    @staticmethod
    def _remove_stale_cgroups(root):
        """Removes empty cgroups left by runs that were killed."""
        for name in os.listdir(root):
            if not name.startswith("nsbench."):
                continue
            pid = name.split(".", 1)[1]
            if pid.isdigit() and os.path.exists(f"/proc/{pid}"):
                continue  # a run in progress
            try:
                os.rmdir(os.path.join(root, name))
            except OSError:
                pass

    def _make_cgroup(self):
        # A cgroup v2 directory lets cgroup.kill reach every member whatever
        # its namespaces; optional (process group and pid-namespace inits
        # already cover cleanup).
        for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            try:
                with open("/proc/mounts") as f:
                    if not any(l.split()[1] == root and l.split()[2] == "cgroup2" for l in f):
                        continue
                self._remove_stale_cgroups(root)
                path = os.path.join(root, f"nsbench.{os.getpid()}")
                os.mkdir(path)
                if not os.path.exists(os.path.join(path, "cgroup.kill")):
                    os.rmdir(path)
                    continue
                return path
            except OSError:
                continue
        return None

    def start(self):
        self.cgroup = self._make_cgroup()
        cgroup = self.cgroup

        def pre():
            die_with_parent()
            os.setpgid(0, 0)
            if cgroup:
                with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                    f.write("0")

        self.proc = subprocess.Popen(
            [self.binary, "--set-size", str(self.set_size)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            preexec_fn=pre)

    def grow(self, total):
        """Grows the population to `total` processes; returns (processes,
        sets, failed)."""
        self.proc.stdin.write(f"{total}\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], 900)
        if not ready:
            raise RuntimeError("populate did not answer within 900 s")
        line = self.proc.stdout.readline()
        m = re.match(r"ready (\d+) (\d+) (\d+)", line or "")
        if not m:
            raise RuntimeError(f"populate did not answer (got {line!r})")
        self.created, self.sets, failed = (int(x) for x in m.groups())
        return self.created, self.sets, failed

    def close(self):
        if self.proc is None:
            return
        pgid = self.proc.pid
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
        if self.cgroup:
            try:
                write_sysctl(os.path.join(self.cgroup, "cgroup.kill"), 1)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        # Wait until no member of the group is left.
        deadline = time.time() + 120
        left = -1
        while time.time() < deadline:
            left = self.members(pgid)
            if left == 0:
                break
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
            time.sleep(0.5)
        if self.cgroup:
            for _ in range(60):
                try:
                    os.rmdir(self.cgroup)
                    break
                except OSError:
                    time.sleep(0.5)
        self.proc = None
        return left

    @staticmethod
    def members(pgid):
        n = 0
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat") as f:
                    data = f.read()
            except OSError:
                continue
            fields = data[data.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid:
                n += 1
        return n


# ----------------------------------------------------------------- tools ---


class Server:
    """A scrape target we start: the exporter or node_exporter."""

    def __init__(self, name, argv, port, path="/metrics"):
        self.name = name
        self.argv = argv
        self.port = port
        self.url = f"http://127.0.0.1:{port}{path}"
        self.proc = None

    def start(self, log_path):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen on port {self.port}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None


def curl(url, out_path):
    """One scrape with curl; returns (wall seconds, http code, bytes,
    curl's time_total)."""
    t0 = time.perf_counter()
    r = subprocess.run(
        ["curl", "-sS", "-o", out_path, "-w", "%{http_code} %{size_download} %{time_total}",
         "--max-time", "300", url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    parts = r.stdout.split()
    code = int(parts[0]) if parts else 0
    size = int(parts[1]) if len(parts) > 1 else 0
    total = float(parts[2]) if len(parts) > 2 else float("nan")
    return wall, code, size, total


def run_command(argv):
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    return wall, r


SELF_METRIC_RE = re.compile(
    r"^linux_namespace_exporter_(scrape_duration_seconds|processes_scanned)(?:\{[^}]*\})?\s+(\S+)",
    re.M)


def exporter_self_metrics(body):
    out = {}
    for name, value in SELF_METRIC_RE.findall(body):
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


def body_complete(body, reference_size):
    """A complete exposition: ends with a newline, carries the exporter's
    own metrics, and is about as long as a single scrape's."""
    if not body.endswith("\n"):
        return False
    m = exporter_self_metrics(body)
    if "scrape_duration_seconds" not in m or "processes_scanned" not in m:
        return False
    return reference_size == 0 or abs(len(body) - reference_size) <= 0.1 * reference_size


# ------------------------------------------------------------ measuring ---


def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def measure_size(args, work, size, population, limits_cap, results):
    row = {"target": size}
    baseline = count_processes()
    want = min(size, limits_cap)
    pop_target = max(0, want - (baseline - population.created))
    t0 = time.perf_counter()
    created, sets, failed = population.grow(pop_target)
    row["populate_seconds"] = time.perf_counter() - t0
    row["populated"] = created
    row["sets"] = sets
    if failed:
        row["populate_failed"] = failed
        log(f"populate: {failed} processes could not be made; population capped at {created}")
    time.sleep(args.settle)
    log(f"size {size}: {count_processes()} processes on the host "
        f"({created} made in {sets} sets, {row['populate_seconds']:.1f} s)")

    floor_bin = os.path.join(work, "floor")
    start_errors = []

    def start_server(name, argv, port):
        server = Server(name, argv, port)
        try:
            server.start(os.path.join(work, f"{name}.{size}.log"))
            return server
        except RuntimeError as e:
            try:
                with open(os.path.join(work, f"{name}.{size}.log")) as f:
                    tail = f.read().strip().splitlines()[-1:]
            except (OSError, IndexError):
                tail = []
            server.stop()
            msg = f"{name} did not start: {e}" + (f" ({tail[0][:200]})" if tail else "")
            log(msg)
            start_errors.append(msg)
            return None

    exporter = None
    if os.path.exists(args.exporter):
        port = free_port()
        exporter = start_server(
            "exporter", [args.exporter, f"--web.listen-address=127.0.0.1:{port}"], port)
    node = None
    if args.node_exporter:
        port = free_port()
        node = start_server("node_exporter", [
            args.node_exporter, "--collector.disable-defaults", "--collector.processes",
            f"--web.listen-address=127.0.0.1:{port}"], port)
    row["load_before"] = open("/proc/loadavg").read().split()[0]
    quiet = wait_for_quiet(args.quiet_wait)
    if quiet >= 0.25:
        log(f"warning: the machine is busy ({quiet:.2f} CPUs used by others) after "
            f"waiting {args.quiet_wait:.0f} s; measuring anyway")

    body_path = os.path.join(work, "body.txt")
    try:
        # Warm-up: the exporter's first scrape fills its namespace cache.
        for server in (exporter, node):
            if server:
                for _ in range(2):
                    curl(server.url, body_path)
        run_command([floor_bin])
        lsns_once, lsns_r = run_command(["lsns", "-o", "NS,TYPE,NPROCS,PNS,ONS"])
        # lsns grows faster than linearly (about 12 s at 10k processes here):
        # at large sizes run it in fewer rounds, spread evenly over the R.
        lsns_reps = max(1, min(args.reps, int(args.lsns_budget / max(lsns_once, 1e-3))))
        lsns_rounds = {round(i * args.reps / lsns_reps) for i in range(lsns_reps)}
        samples = {t: [] for t in TOOLS}
        if lsns_once > args.lsns_budget:
            # One run longer than the whole budget: keep the warm-up's time.
            lsns_rounds = set()
            samples["lsns"].append(lsns_once)
        row["lsns_runs"] = len(samples["lsns"]) + len(lsns_rounds)

        extra = {"exporter_curl_total": [], "exporter_internal": [], "processes": [],
                 "namespaces": [max(0, len(lsns_r.stdout.splitlines()) - 1)],
                 "exporter_bytes": [], "node_curl_total": []}
        cpu0 = {}
        for server in (exporter, node):
            if server:
                cpu0[server.name] = proc_cpu_seconds(server.proc.pid)
        busy0, own0, t_start = cpu_busy_seconds(), own_cpu_seconds(), time.perf_counter()
        errors = []
        for rep in range(args.reps):
            # Round-robin, starting one tool later each round, so drift and
            # cache effects hit every tool alike.
            order = TOOLS[rep % len(TOOLS):] + TOOLS[:rep % len(TOOLS)]
            for tool in order:
                if tool == "exporter" and exporter:
                    wall, code, nbytes, total = curl(exporter.url, body_path)
                    with open(body_path, errors="replace") as f:
                        body = f.read()
                    if code != 200 or not body_complete(body, 0):
                        errors.append(f"exporter scrape: HTTP {code}, {nbytes} bytes")
                    m = exporter_self_metrics(body)
                    samples["exporter"].append(wall)
                    extra["exporter_curl_total"].append(total)
                    extra["exporter_internal"].append(m.get("scrape_duration_seconds", float("nan")))
                    extra["exporter_bytes"].append(nbytes)
                elif tool == "node_exporter" and node:
                    wall, code, nbytes, total = curl(node.url, body_path)
                    if code != 200:
                        errors.append(f"node_exporter scrape: HTTP {code}")
                    samples["node_exporter"].append(wall)
                    extra["node_curl_total"].append(total)
                elif tool == "floor":
                    wall, r = run_command([floor_bin])
                    m = re.search(r"processes=(\d+)", r.stdout)
                    if m:
                        extra["processes"].append(int(m.group(1)))
                    samples["floor"].append(wall)
                elif tool == "lsns" and rep in lsns_rounds:
                    wall, r = run_command(["lsns", "-o", "NS,TYPE,NPROCS,PNS,ONS"])
                    if r.returncode != 0:
                        errors.append(f"lsns exit {r.returncode}: {r.stderr.strip()[:200]}")
                    extra["namespaces"].append(max(0, len(r.stdout.splitlines()) - 1))
                    samples["lsns"].append(wall)
        busy = cpu_busy_seconds() - busy0
        ours = own_cpu_seconds() - own0
        elapsed = time.perf_counter() - t_start
        for server in (exporter, node):
            if server:
                cpu = proc_cpu_seconds(server.proc.pid) - cpu0[server.name]
                ours += cpu
                row[f"{server.name}_cpu_per_scrape"] = cpu / args.reps
        # CPU used by anything but the measured tools while they ran, in
        # cores: the noise floor of this size's figures.
        row["foreign_cpus"] = max(0.0, (busy - ours) / elapsed) if elapsed > 0 else 0.0
        if row["foreign_cpus"] > 0.25:
            log(f"warning: other processes used {row['foreign_cpus']:.2f} CPUs on average "
                f"during the measurement: the figures at this size are disturbed")
        if exporter:
            row["exporter_vmhwm_kib"] = proc_status_kib(exporter.proc.pid, "VmHWM")
            row["exporter_vmrss_kib"] = proc_status_kib(exporter.proc.pid, "VmRSS")

        for t in TOOLS:
            row[f"{t}_median"] = median(samples[t])
            row[f"{t}_samples"] = samples[t]
        row["exporter_curl_total_median"] = median(extra["exporter_curl_total"])
        row["exporter_internal_median"] = median(extra["exporter_internal"])
        row["exporter_bytes"] = int(median(extra["exporter_bytes"])) if extra["exporter_bytes"] else 0
        row["processes"] = int(median(extra["processes"])) if extra["processes"] else 0
        row["namespaces"] = int(median(extra["namespaces"])) if extra["namespaces"] else 0
        row["errors"] = (start_errors + errors)[:20]
        row["load_after"] = open("/proc/loadavg").read().split()[0]
        log(f"size {size}: " + ", ".join(
            f"{t} {row[f'{t}_median'] * 1000:.1f} ms" for t in TOOLS if samples[t]))

        if exporter and size == args.concurrency_size:
            row["concurrency"] = measure_concurrency(args, work, exporter, row)
    finally:
        for server in (exporter, node):
            if server:
                server.stop()
    results.append(row)


def measure_concurrency(args, work, exporter, row):
    single = row["exporter_median"]
    ref_size = row["exporter_bytes"]
    limit = 2 * single + args.margin
    walls, internals, failures = [], [], []
    rounds = []
    cpu0 = proc_cpu_seconds(exporter.proc.pid)
    for rnd in range(args.rounds):
        procs = []
        t0 = time.perf_counter()
        for i in range(args.concurrency):
            path = os.path.join(work, f"conc.{i}.txt")
            p = subprocess.Popen(
                ["curl", "-sS", "-o", path, "-w", "%{http_code} %{size_download} %{time_total}",
                 "--max-time", "300", exporter.url],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append((p, path))
        this_round = []
        for p, path in procs:
            out, err = p.communicate()
            wall = time.perf_counter() - t0
            parts = out.split()
            code = int(parts[0]) if parts else 0
            total = float(parts[2]) if len(parts) > 2 else float("nan")
            try:
                with open(path, errors="replace") as f:
                    body = f.read()
            except OSError:
                body = ""
            m = exporter_self_metrics(body)
            ok = code == 200 and body_complete(body, ref_size)
            if not ok:
                failures.append(f"round {rnd}: HTTP {code}, {len(body)} bytes {err.strip()[:100]}")
            walls.append(total)
            internals.append(m.get("scrape_duration_seconds", float("nan")))
            this_round.append({"code": code, "curl_total": total, "wall": wall,
                               "scrape_duration": m.get("scrape_duration_seconds")})
        rounds.append(this_round)
    cpu = proc_cpu_seconds(exporter.proc.pid) - cpu0
    good_walls = [w for w in walls if w == w]
    return {
        "clients": args.concurrency,
        "rounds": args.rounds,
        "single_median": single,
        "limit": limit,
        "max_latency": max(good_walls) if good_walls else float("nan"),
        "median_latency": median(good_walls),
        "over_limit": sum(1 for w in good_walls if w > limit),
        "failures": failures,
        "scrape_duration_min": min((x for x in internals if x == x), default=float("nan")),
        "scrape_duration_max": max((x for x in internals if x == x), default=float("nan")),
        "distinct_scrape_durations": len({x for x in internals if x == x}),
        "cpu_seconds_total": cpu,
        "detail": rounds,
    }


# -------------------------------------------------------------- reporting ---


def fmt_ms(s):
    return "n/a" if s != s else f"{s * 1000:.1f}"


def fmt_ratio(x):
    return "n/a" if x != x else f"{x:.2f}"


def div(a, b):
    try:
        if a != a or b != b or b == 0:
            return float("nan")
        return a / b
    except TypeError:
        return float("nan")


def checks(results, args):
    """PASS/FAIL lines for the targets at ~10k processes."""
    lines = []
    if not results:
        return ["SKIP  no results"]
    ref = min(results, key=lambda r: abs(r["target"] - args.concurrency_size))
    n = ref["processes"]
    have_exporter = ref.get("exporter_median", float("nan")) == ref.get("exporter_median", float("nan"))

    def line(ok, text):
        if ok is None:
            lines.append(f"SKIP  {text}")
        else:
            lines.append(f"{'PASS' if ok else 'FAIL'}  {text}")

    noisy = [f"{r['processes']}: {r['foreign_cpus']:.2f}" for r in results
             if r.get("foreign_cpus", 0) > 0.25]
    if noisy:
        lines.append("NOTE  other processes used CPUs during the timing (processes: CPUs): "
                     + ", ".join(noisy) + "; those figures are disturbed")
    if not have_exporter:
        line(None, "exporter binary not built: scrape targets not checked")
    else:
        r = div(ref["exporter_median"], ref["floor_median"])
        line(r <= TARGET_FLOOR_RATIO,
             f"scrape <= {TARGET_FLOOR_RATIO} x floor at {n} processes: "
             f"{fmt_ms(ref['exporter_median'])} ms / {fmt_ms(ref['floor_median'])} ms = {fmt_ratio(r)}")
        s = div(ref["lsns_median"], ref["exporter_median"])
        line(s >= TARGET_LSNS_SPEEDUP,
             f"scrape >= {TARGET_LSNS_SPEEDUP:g} x faster than lsns: lsns/exporter = {fmt_ratio(s)}")
        hwm = ref.get("exporter_vmhwm_kib")
        line(hwm is not None and hwm / 1024 <= TARGET_RSS_MIB,
             f"exporter peak RSS <= {TARGET_RSS_MIB:g} MiB: VmHWM {hwm / 1024 if hwm else float('nan'):.1f} MiB")
        for key, label in (("exporter_median", "scrape wall time"),
                           ("exporter_internal_median", "collection (scrape_duration_seconds)")):
            per = [(r["processes"], div(r[key], r["processes"])) for r in results if r["processes"]]
            per = [(p, x) for p, x in per if x == x]
            if len(per) >= 2:
                lo = min(x for _, x in per)
                hi = max(x for _, x in per)
                spread = hi / lo
                detail = ", ".join(f"{p}: {x * 1e6:.2f} us" for p, x in per)
                line(spread <= TARGET_FLATNESS,
                     f"time per process flat within {int((TARGET_FLATNESS - 1) * 100)}% "
                     f"({label}): max/min = {spread:.2f} ({detail})")
            else:
                line(None, f"time per process flat ({label}): needs two sizes")
        c = ref.get("concurrency")
        if c:
            ok = not c["failures"] and c["over_limit"] == 0
            line(ok,
                 f"{c['clients']} concurrent scrapers x {c['rounds']} rounds: "
                 f"{c['clients'] * c['rounds'] - len(c['failures'])}/{c['clients'] * c['rounds']} "
                 f"complete 200s; max latency {fmt_ms(c['max_latency'])} ms vs limit "
                 f"{fmt_ms(c['limit'])} ms (2 x single {fmt_ms(c['single_median'])} ms + "
                 f"{args.margin * 1000:.0f} ms); scrape_duration_seconds "
                 f"{fmt_ms(c['scrape_duration_min'])}-{fmt_ms(c['scrape_duration_max'])} ms "
                 f"({c['distinct_scrape_durations']} distinct values in "
                 f"{c['clients'] * c['rounds']} bodies)")
        else:
            line(None, "concurrent scrapers: not run")
    return lines


def write_plot(results, png, work):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return "gnuplot not found: no plot"
    data = os.path.join(work, "plot.dat")
    with open(data, "w") as f:
        f.write("# processes exporter floor lsns node_exporter (seconds)\n")
        for r in results:
            vals = [r.get(f"{t}_median", float("nan")) for t in TOOLS]
            f.write(f"{r['processes']} " + " ".join(
                "NaN" if v != v else f"{v:.6f}" for v in vals) + "\n")
    script = f"""
set terminal pngcairo noenhanced size 1100,480 font ",10"
set output "{png}"
set datafile missing "NaN"
set multiplot layout 1,2 title "linux_namespace_exporter vs floor, lsns, node_exporter ({os.cpu_count()} CPUs, kernel {platform.release()})"
set logscale xy
set xrange [500:60000]
set grid
set key top left
set xlabel "processes on the host"
set ylabel "median wall time per run (ms)"
plot "{data}" u 1:($2*1000) w lp lw 2 pt 7 lc rgb "#9400d3" t "exporter /metrics (curl)", \\
     "{data}" u 1:($3*1000) w lp lw 2 pt 5 lc rgb "#009e73" t "floor (C, readlinkat)", \\
     "{data}" u 1:($4*1000) w lp lw 2 pt 9 lc rgb "#56b4e9" t "lsns", \\
     "{data}" u 1:($5*1000) w lp lw 2 pt 11 lc rgb "#e69f00" t "node_exporter processes"
unset logscale y
set logscale x
set yrange [0:*]
set key bottom right
set ylabel "microseconds per process"
set title "time per process (lsns is off this scale)"
plot "{data}" u 1:($2*1e6/$1) w lp lw 2 pt 7 lc rgb "#9400d3" t "exporter", \\
     "{data}" u 1:($3*1e6/$1) w lp lw 2 pt 5 lc rgb "#009e73" t "floor", \\
     "{data}" u 1:($5*1e6/$1) w lp lw 2 pt 11 lc rgb "#e69f00" t "node_exporter"
unset multiplot
"""
    r = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        return f"gnuplot failed: {r.stderr.strip()[:300]}"
    return None


KEPT_HEADING = "## Without NS_GET_ID"


def write_report(results, check_lines, args, meta, md_path, png_path):
    lines = []
    w = lines.append
    w("# Performance")
    w("")
    w("Measured by `sudo bench/run.sh` (see `bench/README.md`), which makes its own")
    w("population of namespaced processes, times each tool round-robin and removes")
    w("the population afterwards. Regenerate this page by running it again.")
    w("")
    w(f"- date: {meta['date']}")
    w(f"- machine: {meta['cpus']} CPUs ({meta['cpu_model']}), {meta['mem_gib']:.0f} GiB, "
      f"kernel {meta['kernel']}")
    w(f"- tools: exporter `{meta['exporter_version']}`, {meta['lsns_version']}, "
      f"{meta['node_exporter_version']}")
    w(f"- repetitions: {args.reps} per tool and size, interleaved; sets of {args.set_size} "
      f"processes; whole-command wall times (curl, floor and lsns each start a process)")
    for n in meta["limits"]:
        w(f"- limit: {n}")
    w("")
    w("## Results")
    w("")
    w("Median wall time per run in milliseconds; ratios of medians.")
    w("")
    w("| processes | namespaces | exporter | floor | lsns | node_exporter | exporter/floor | "
      "lsns/exporter | node_exporter/exporter | exporter collection (internal) | "
      "exporter VmHWM (MiB) | exporter CPU s/scrape | node_exporter CPU s/scrape |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        hwm = r.get("exporter_vmhwm_kib")
        w(f"| {r['processes']} | {r['namespaces']} | {fmt_ms(r['exporter_median'])} | "
          f"{fmt_ms(r['floor_median'])} | {fmt_ms(r['lsns_median'])} | "
          f"{fmt_ms(r['node_exporter_median'])} | "
          f"{fmt_ratio(div(r['exporter_median'], r['floor_median']))} | "
          f"{fmt_ratio(div(r['lsns_median'], r['exporter_median']))} | "
          f"{fmt_ratio(div(r['node_exporter_median'], r['exporter_median']))} | "
          f"{fmt_ms(r.get('exporter_internal_median', float('nan')))} | "
          f"{'n/a' if hwm is None else f'{hwm / 1024:.1f}'} | "
          f"{r.get('exporter_cpu_per_scrape', float('nan')):.4f} | "
          f"{r.get('node_exporter_cpu_per_scrape', float('nan')):.4f} |")
    fewer = [f"{r['processes']} ({r['lsns_runs']})" for r in results
             if r.get("lsns_runs", args.reps) < args.reps]
    if fewer:
        w("")
        w(f"lsns ran in fewer rounds where one run was long (processes (runs)): "
          f"{', '.join(fewer)}.")
    w("")
    w("Time per process (median wall time / processes), microseconds:")
    w("")
    w("| processes | exporter | floor | lsns | node_exporter |")
    w("| ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        cells = []
        for t in TOOLS:
            x = div(r[f"{t}_median"], r["processes"])
            cells.append("n/a" if x != x else f"{x * 1e6:.2f}")
        w(f"| {r['processes']} | " + " | ".join(cells) + " |")
    w("")
    if os.path.exists(png_path):
        w(f"![benchmark plot]({os.path.basename(png_path)})")
        w("")
    w("How to read it: every time is a whole command's wall time, so the exporter's")
    w("column includes curl's start, the HTTP exchange and the serialisation of the")
    w("body, a few milliseconds that weigh most at 1k processes; \"exporter collection")
    w("(internal)\" is the exporter's own `linux_namespace_exporter_scrape_duration_seconds`.")
    w("The floor is the cheapest possible walk (eight readlinkat calls per process);")
    w("VmHWM is the exporter's peak resident set after the warm-up and the timed")
    w("scrapes at that size (a fresh exporter per size); CPU per scrape is its")
    w("utime+stime over the timed scrapes divided by their number.")
    w("")
    w("## Targets (at about 10k processes)")
    w("")
    w("```")
    for l in check_lines:
        w(l)
    w("```")
    w("")
    conc = [r["concurrency"] for r in results if r.get("concurrency")]
    if conc:
        c = conc[0]
        w("## Concurrent scrapes")
        w("")
        w(f"{c['clients']} curl clients started at once, {c['rounds']} rounds; latency is curl's "
          f"`time_total`, limit = 2 x single-scrape median + {args.margin * 1000:.0f} ms.")
        w("")
        w("| round | latencies (ms) | scrape_duration_seconds in the bodies (ms) |")
        w("| ---: | --- | --- |")
        for i, rnd in enumerate(c["detail"]):
            lat = ", ".join(fmt_ms(x["curl_total"]) for x in rnd)
            sd = ", ".join(fmt_ms(x["scrape_duration"]) if x["scrape_duration"] is not None
                           else "n/a" for x in rnd)
            w(f"| {i + 1} | {lat} | {sd} |")
        w("")
        w(f"Exporter CPU during the concurrent rounds: {c['cpu_seconds_total']:.3f} s for "
          f"{c['clients'] * c['rounds']} scrapes.")
        w("")
    errs = [(r["processes"], e) for r in results for e in r.get("errors", [])]
    if errs:
        w("## Errors seen")
        w("")
        for p, e in errs:
            w(f"- {p} processes: {e}")
        w("")
    w("## Population")
    w("")
    w("| target | processes made | sets | seconds to make | load average before / after | "
      "other CPU use during the timed rounds (CPUs) |")
    w("| ---: | ---: | ---: | ---: | --- | ---: |")
    for r in results:
        fc = r.get("foreign_cpus")
        w(f"| {r['target']} | {r['populated']} | {r['sets']} | {r['populate_seconds']:.1f} | "
          f"{r.get('load_before', '?')} / {r.get('load_after', '?')} | "
          f"{'n/a' if fc is None else f'{fc:.2f}'} |")
    w("")
    w("\"Other CPU use\" is the machine's busy time (/proc/stat) minus the CPU time of")
    w("the measured tools and the driver, per second of the timed rounds. Above about")
    w("0.25 something else competed for the CPUs: rerun on a quiet machine before")
    w("trusting the ratios at that size.")
    w("")
    w(f"Whole run: {meta.get('wall_seconds', 0):.0f} s.")
    w("")
    # Sections measured by hand, from KEPT_HEADING on, survive a rerun.
    kept = ""
    try:
        with open(md_path) as f:
            old = f.read()
        if KEPT_HEADING in old:
            kept = old[old.index(KEPT_HEADING):]
    except OSError:
        pass
    with open(md_path, "w") as f:
        f.write("\n".join(lines))
        if kept:
            f.write("\n" + kept)


def tool_version(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


# -------------------------------------------------------- node_exporter ---


def stop_foreign_node_exporters(ours):
    """Stops a node_exporter started by systemd (the Debian package starts
    one on install); returns a function that restarts it."""
    systemctl = shutil.which("systemctl")
    restart = []
    if systemctl and os.path.isdir("/run/systemd/system"):
        r = subprocess.run([systemctl, "is-active", "prometheus-node-exporter"],
                           capture_output=True, text=True)
        if r.stdout.strip() == "active":
            subprocess.run([systemctl, "stop", "prometheus-node-exporter"])
            restart.append("prometheus-node-exporter")
            log("stopped the systemd prometheus-node-exporter service for the run")
    others = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in ("prometheus-node", "node_exporter"):
            others.append(int(name))
    if others:
        log(f"warning: node_exporter processes not started by this run are alive: {others}")

    def undo():
        for unit in restart:
            subprocess.run([systemctl, "start", unit])
    return undo


# ------------------------------------------------------------------ main ---


def report_only(args):
    with open(args.report_from) as f:
        saved = json.load(f)
    results, meta = saved["results"], saved["meta"]
    for k, v in saved.get("args", {}).items():
        if k in ("reps", "set_size", "margin", "concurrency_size", "concurrency", "rounds"):
            setattr(args, k, v)
    work = tempfile.mkdtemp(prefix="nsbench.")
    try:
        err = write_plot(results, args.png, work)
        if err:
            log(err)
        check_lines = checks(results, args)
        write_report(results, check_lines, args, meta, args.out, args.png)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for l in check_lines:
        print(l)
    return 0



def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", default="1000,10000,30000",
                   help="process counts on the host to measure at (default %(default)s)")
    p.add_argument("--reps", type=int, default=7, help="repetitions per tool and size")
    p.add_argument("--set-size", type=int, default=8, help="processes per set of namespaces")
    p.add_argument("--exporter", default=os.path.join(REPO, "build", "linux_namespace_exporter"))
    p.add_argument("--node-exporter", default=None,
                   help="node_exporter binary (default: prometheus-node-exporter from PATH)")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--concurrency-size", type=int, default=10000,
                   help="size (one of --sizes) for the targets and the concurrent test")
    p.add_argument("--margin", type=float, default=0.05,
                   help="seconds added to 2 x single scrape for the concurrent limit")
    p.add_argument("--lsns-budget", type=float, default=90.0,
                   help="seconds of lsns runs per size; fewer rounds of lsns beyond it")
    p.add_argument("--quiet-wait", type=float, default=120.0,
                   help="seconds to wait for an idle machine before each size")
    p.add_argument("--settle", type=float, default=3.0,
                   help="seconds to wait after growing the population")
    p.add_argument("--out", default=os.path.join(REPO, "docs", "performance.md"))
    p.add_argument("--png", default=os.path.join(REPO, "docs", "performance.png"))
    p.add_argument("--keep-work", action="store_true", help="keep the scratch directory")
    p.add_argument("--report-from", metavar="RESULTS_JSON",
                   help="only rewrite the report and plot from a run's results.json")
    args = p.parse_args()
    if args.report_from:
        return report_only(args)
    sizes = sorted(int(x) for x in args.sizes.split(","))
    if args.concurrency_size not in sizes:
        args.concurrency_size = min(sizes, key=lambda s: abs(s - 10000))

    if os.geteuid() != 0:
        print("run as root: sudo bench/run.sh", file=sys.stderr)
        return 1
    if args.node_exporter is None:
        args.node_exporter = (shutil.which("prometheus-node-exporter")
                              or shutil.which("node_exporter"))
    for tool in ("curl", "lsns", "cc"):
        if not shutil.which(tool):
            print(f"missing {tool}: run bench/run.sh, which installs it", file=sys.stderr)
            return 1

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    started = time.time()
    work = tempfile.mkdtemp(prefix="nsbench.")
    limits = Limits()
    population = None
    undo_node = lambda: None
    results = []
    status = 0
    try:
        for src, out, extra in (("populate.c", "populate", ["-static"]),
                                ("floor.c", "floor", ["-pthread"])):
            cmd = ["cc", "-O2", "-Wall", *extra, "-o", os.path.join(work, out),
                   os.path.join(BENCH, src)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0 and "-static" in extra:
                cmd.remove("-static")
                r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"building {src} failed:\n{r.stderr}")
        cap = limits.prepare(max(sizes))
        # Memory: about 130 KiB per sleeper measured (MemAvailable drop with
        # 10k processes, namespaces included); plan 160 and keep 30% spare.
        mem_cap = int(mem_available_kib() * 0.7 / 160)
        if cap < max(sizes) or mem_cap < max(sizes):
            cap = min(cap, mem_cap)
            limits.notes.append(f"population capped at {cap} processes by limits/memory")
            log(f"population capped at {cap} processes")
        for n in limits.notes:
            log(n)
        if not os.path.exists(args.exporter):
            log(f"exporter not found at {args.exporter}: measuring the other tools only")
        if args.node_exporter:
            undo_node = stop_foreign_node_exporters(args.node_exporter)
        else:
            log("node_exporter not found: install prometheus-node-exporter (bench/run.sh does)")

        population = Population(os.path.join(work, "populate"), args.set_size, work)
        population.start()
        for size in sizes:
            measure_size(args, work, size, population, cap, results)
    except Interrupted as e:
        log(f"interrupted ({e}): cleaning up")
        status = 130
    except Exception as e:  # report, then clean up below
        log(f"error: {e}")
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if population:
            left = population.close()
            log("population removed" if left == 0 else
                f"warning: {left} population processes still alive")
        limits.restore()
        undo_node()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    if results:
        check_lines = checks(results, args)
        meta = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpus": os.cpu_count(),
            "cpu_model": cpu_model(),
            "mem_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
            "kernel": platform.release(),
            "exporter_version": tool_version([args.exporter, "--version"])
            if os.path.exists(args.exporter) else "not built",
            "lsns_version": tool_version(["lsns", "--version"]),
            "node_exporter_version": tool_version([args.node_exporter, "--version"])
            if args.node_exporter else "node_exporter missing",
            "limits": limits.notes,
            "wall_seconds": time.time() - started,
        }
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        err = write_plot(results, args.png, work)
        if err:
            log(err)
        write_report(results, check_lines, args, meta, args.out, args.png)
        with open(os.path.join(work, "results.json"), "w") as f:
            json.dump({"meta": meta, "results": results,
                       "args": {k: v for k, v in vars(args).items()
                                if isinstance(v, (int, float, str))}},
                      f, indent=1, default=str)
        print()
        for l in check_lines:
            print(l)
        print()
        log(f"report: {os.path.relpath(args.out, REPO)}; raw data: {work}/results.json")
        if any(l.startswith("FAIL") for l in check_lines) and status == 0:
            status = 3
    if not args.keep_work and not results:
        shutil.rmtree(work, ignore_errors=True)
    log(f"done in {time.time() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
