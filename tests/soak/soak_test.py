#!/usr/bin/env python3
"""Churn soak: the exporter on the real /proc while tests/soak/churn.c
creates and destroys processes and namespaces of all eight types (nested
pid and user, bind-mounted net and uts namespaces, net, uts and ipc
namespaces held only by an open fd); one client scrapes /metrics every
100 ms, another asks for /tree?format=json every second, for each type in
turn. The exporter runs with fd holders on (collection.fds).

Each /tree answer is checked against the kernel: for a sample of its
namespaces (--verify-per-tree) that have a live member process, the
member's /proc/PID/ns/TYPE is opened, and if it is still that namespace
(same inode, and same NS_GET_ID when the exporter reported an id) the
reported parent_inode and owner_inode are compared with what fresh
NS_GET_PARENT and NS_GET_USERNS ioctls say (EPERM: outside our view, so
none). A namespace whose member is gone or moved is counted as vanished.

Reports (stderr, and --report FILE as JSON): the churn rate reached,
scrapes and /tree requests with their failures (goal 0), exposition errors
(a sample of the bodies through `promtool check metrics`, every body
through the harness parser), parents and owners checked, mismatched (goal
0) and vanished, and the exporter's RSS and open fds after warm-up (goal
flat). Fails on any failed request, any exposition error, any mismatch, no
namespace checked, an fd floor (fds between collections) that rises after
warm-up, or RSS growth beyond --rss-growth-mib.

CTest runs 60 s; the long run of docs/reliability.md:

    PYTHONPATH=tests/harness python3 tests/soak/soak_test.py \\
        --exporter build/linux_namespace_exporter --churn build/tests/soak/churn \\
        --seconds 600 --report soak.json
"""

import argparse
import errno
import fcntl
import json
import os
import random
import struct
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import nsexp_harness as h


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def slope_per_minute(points):
    """Least-squares slope of (t, v) points, per minute."""
    if len(points) < 2:
        return 0.0
    ts = [t for t, _ in points]
    vs = [v for _, v in points]
    mt, mv = statistics.fmean(ts), statistics.fmean(vs)
    den = sum((t - mt) ** 2 for t in ts)
    if den == 0:
        return 0.0
    return 60 * sum((t - mt) * (v - mv) for t, v in points) / den


# ioctl_ns(2): NS_GET_USERNS and NS_GET_PARENT return a new namespace fd;
# NS_GET_ID (Linux 6.18) = _IOR(0xb7, 0xd, __u64).
NS_GET_USERNS = 0xB701
NS_GET_PARENT = 0xB702
NS_GET_ID = 0x8008B70D
TYPES = ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts")


def tree_nodes(doc):
    """Every namespace node of a /tree JSON document that lists members."""
    stack = list(doc.get("roots", [])) + list(doc.get("unowned", []))
    while stack:
        n = stack.pop()
        stack.extend(n.get("children", []))
        stack.extend(n.get("owned", []))
        if "members" in n:
            yield n


def related_inode(fd, request):
    """The inode of the namespace that NS_GET_PARENT or NS_GET_USERNS names
    for the namespace open at `fd`; None for EPERM (outside our view)."""
    try:
        rfd = fcntl.ioctl(fd, request)
    except OSError as err:
        if err.errno == errno.EPERM:
            return None
        raise
    try:
        return os.fstat(rfd).st_ino
    finally:
        os.close(rfd)


class Verifier:
    """Checks a sample of the parents and owners a /tree answer reports
    against fresh ioctls on a live member's namespace."""

    def __init__(self, per_tree):
        self.per_tree = per_tree
        self.checked = self.mismatched = self.vanished = 0
        self.mismatches = []
        # The most namespaces one answer showed held only by an fd, and
        # held by a bind mount: the churn's holders were seen.
        self.fd_only_max = self.bind_mounted_max = 0
        self.lock = threading.Lock()

    def check_tree(self, doc):
        nodes = list(tree_nodes(doc))
        fd_only = sum(1 for n in nodes if not n["members"]
                      and n["holders"].get("fd", 0) > 0)
        bound = sum(1 for n in nodes if n["bind_mounts"])
        with self.lock:
            self.fd_only_max = max(self.fd_only_max, fd_only)
            self.bind_mounted_max = max(self.bind_mounted_max, bound)
        live = [n for n in nodes if any(not m["exited"] for m in n["members"])]
        for n in random.sample(live, min(self.per_tree, len(live))):
            outcome, detail = self.check_one(n)
            with self.lock:
                if outcome == "vanished":
                    self.vanished += 1
                    continue
                self.checked += 1
                if outcome == "mismatch":
                    self.mismatched += 1
                    if len(self.mismatches) < 5:
                        self.mismatches.append(detail)

    @staticmethod
    def check_one(n):
        """("ok" | "mismatch" | "vanished", detail) for one node."""
        pid = next(m["pid"] for m in n["members"] if not m["exited"])
        try:
            fd = os.open(f"/proc/{pid}/ns/{n['type']}",
                         os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return "vanished", ""
        try:
            if os.fstat(fd).st_ino != n["inode"]:
                return "vanished", ""  # the member moved, or a new process
            if n.get("ns_id") is not None:
                try:
                    (ns_id,) = struct.unpack(
                        "Q", fcntl.ioctl(fd, NS_GET_ID, bytes(8)))
                except OSError:
                    ns_id = None
                if ns_id is not None and ns_id != n["ns_id"]:
                    return "vanished", ""  # the inode was reused
            want = {"owner_inode": related_inode(fd, NS_GET_USERNS)}
            if n["type"] in ("pid", "user"):
                want["parent_inode"] = related_inode(fd, NS_GET_PARENT)
            got = {k: n.get(k) for k in want}
            if got != want:
                return "mismatch", (f"{n['type']}:[{n['inode']}] via pid "
                                    f"{pid}: reported {got}, kernel {want}")
            return "ok", ""
        except OSError as err:
            return "mismatch", f"{n['type']}:[{n['inode']}]: ioctl {err}"
        finally:
            os.close(fd)


class Client(threading.Thread):
    """Asks for each of `paths` in turn, one every `interval` seconds, until
    stopped; counts failures (non-200, timeout, unparsable body)."""

    def __init__(self, exp, paths, interval, stop, check=None):
        super().__init__(daemon=True)
        self.exp, self.paths, self.interval = exp, paths, interval
        self.stop, self.check = stop, check
        self.requests = self.failures = 0
        self.latencies = []
        self.first_failure = ""

    def run(self):
        next_at = time.monotonic()
        while not self.stop.is_set():
            t0 = time.monotonic()
            path = self.paths[self.requests % len(self.paths)]
            self.requests += 1
            try:
                status, _, body = self.exp.get(path, timeout=10)
                if status != 200:
                    raise AssertionError(f"status {status}")
                if self.check:
                    self.check(body)
            except Exception as err:  # noqa: BLE001 -- counted, reported
                self.failures += 1
                if not self.first_failure:
                    self.first_failure = f"{path}: {err}"
            self.latencies.append(time.monotonic() - t0)
            next_at += self.interval
            self.stop.wait(max(0.0, next_at - time.monotonic()))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--exporter", required=True)
    p.add_argument("--churn", required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--trees-per-second", type=float, default=60)
    p.add_argument("--warmup", type=float, default=0.25,
                   help="fraction of the run before RSS and fds are judged")
    p.add_argument("--promtool-every", type=int, default=10,
                   help="check every Nth /metrics body with promtool")
    p.add_argument("--rss-growth-mib", type=float, default=16)
    p.add_argument("--verify-per-tree", type=int, default=20,
                   help="namespaces of each /tree answer whose parent and "
                        "owner are checked against fresh ioctls")
    p.add_argument("--report")
    args = p.parse_args()
    h.require_root("creates namespaces of every type")
    promtool = shutil.which("promtool")
    if promtool is None:
        h.skip("promtool not installed (Debian package prometheus)")
    unshare = shutil.which("unshare")
    if unshare is None:
        h.skip("unshare not installed (util-linux)")

    f = h.Failures()
    scratch = tempfile.mkdtemp(prefix="nsexp-soak-")
    log = os.path.join(scratch, "exporter.log")
    config = os.path.join(scratch, "config.yml")
    with open(config, "w") as out:
        out.write("collection:\n  fds: true\n")
    exp = h.Exporter(args.exporter, f"--config.file={config}", log_path=log)
    exp.start()
    promtool_errors, promtool_runs, bodies = [], [0], [0]
    lock = threading.Lock()

    def check_metrics(body):
        text = body.decode("utf-8")
        h.parse_metrics(text)
        with lock:
            bodies[0] += 1
            n = bodies[0]
        if n % args.promtool_every == 0:
            r = subprocess.run([promtool, "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=30)
            promtool_runs[0] += 1
            # Lint findings (exit 3) are style; exit 1 is a broken body.
            if r.returncode not in (0, 3):
                promtool_errors.append(r.stderr.strip()[:300])
                raise AssertionError("promtool: " + r.stderr.strip()[:200])

    verifier = Verifier(args.verify_per_tree)

    def check_tree(body):
        verifier.check_tree(json.loads(body))

    churn = subprocess.Popen(
        [unshare, "--mount", "--propagation", "private", "--",
         args.churn, str(args.seconds), str(args.trees_per_second)],
        stdout=subprocess.PIPE, text=True)
    stop = threading.Event()
    clients = [Client(exp, ["/metrics"], 0.1, stop, check_metrics),
               Client(exp, [f"/tree?format=json&type={t}" for t in TYPES],
                      1.0, stop, check_tree)]
    for c in clients:
        c.start()
    start = time.monotonic()
    samples = []  # (seconds, rss KiB, fds)
    pid = exp.proc.pid
    while churn.poll() is None and exp.alive():
        samples.append((time.monotonic() - start, rss_kib(pid), open_fds(pid)))
        time.sleep(1)
    stop.set()
    for c in clients:
        c.join(30)
    churn_out, _ = churn.communicate(timeout=60)
    alive = exp.alive()
    exp.stop()

    try:
        churn_report = json.loads(churn_out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        churn_report = {"error": churn_out[-300:]}
    warm = [s for s in samples if s[0] >= args.warmup * args.seconds]
    rss = [s[1] for s in warm] or [0]
    fds = [s[2] for s in warm] or [0]
    metrics, tree = clients
    report = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": args.seconds,
        "churn": churn_report,
        "scrapes": metrics.requests, "scrape_failures": metrics.failures,
        "scrape_p50_ms": round(1000 * statistics.median(metrics.latencies or [0]), 1),
        "scrape_max_ms": round(1000 * max(metrics.latencies or [0]), 1),
        "tree_requests": tree.requests, "tree_failures": tree.failures,
        "first_failure": metrics.first_failure or tree.first_failure,
        "promtool_checked": promtool_runs[0],
        "relations_checked": verifier.checked,
        "relations_mismatched": verifier.mismatched,
        "relations_vanished": verifier.vanished,
        "first_mismatches": verifier.mismatches,
        "most_fd_only_in_one_tree": verifier.fd_only_max,
        "most_bind_mounted_in_one_tree": verifier.bind_mounted_max,
        "exposition_errors": len(promtool_errors),
        "rss_kib_after_warmup": {"first": rss[0], "last": rss[-1],
                                 "min": min(rss), "max": max(rss),
                                 "slope_kib_per_min": round(slope_per_minute(
                                     [(s[0], s[1]) for s in warm]), 1)},
        "fds_after_warmup": {"first": fds[0], "last": fds[-1],
                             "min": min(fds), "max": max(fds),
                             "floor_first_half": min(fds[:len(fds) // 2] or fds),
                             "floor_second_half": min(fds[len(fds) // 2:])},
    }
    print(json.dumps(report, indent=2), file=sys.stderr)
    if args.report:
        with open(args.report, "w") as out:
            json.dump(report, out, indent=2)

    f.check(alive, "the exporter survived: " + exp.log_tail(500))
    f.check("error" not in churn_report, f"churn report: {churn_report}")
    f.equal(churn_report.get("failures"), 0, "churn failures")
    f.check(metrics.requests >= 5 * args.seconds,
            f"scrapes made: {metrics.requests}")
    f.equal(metrics.failures, 0, f"failed scrapes ({metrics.first_failure})")
    f.equal(tree.failures, 0, f"failed /tree ({tree.first_failure})")
    f.check(promtool_runs[0] > 0, "promtool checked some bodies")
    f.equal(len(promtool_errors), 0, f"exposition errors {promtool_errors[:1]}")
    f.check(verifier.checked > 0, "some parents and owners were checked")
    f.equal(verifier.mismatched, 0,
            f"parents and owners unlike the kernel's {verifier.mismatches}")
    f.equal(churn_report.get("fd_failures"), 0, "churn fd holds failed")
    f.check(verifier.fd_only_max > 0,
            "/tree showed namespaces held only by an fd")
    f.check(verifier.bind_mounted_max > 0,
            "/tree showed bind-mounted namespaces")
    # Fds: a collection in flight holds namespace handles for a moment, so a
    # sample may catch a peak; what it holds between collections (the
    # floor) must not rise from the first half after warm-up to the second.
    half = len(fds) // 2
    floor_first, floor_second = min(fds[:half] or fds), min(fds[half:])
    f.check(floor_second <= floor_first + 2,
            f"open fds floor flat after warm-up: {floor_first} -> "
            f"{floor_second} ({fds})")
    f.check(max(rss) - rss[0] <= args.rss_growth_mib * 1024,
            f"RSS growth after warm-up within {args.rss_growth_mib} MiB: "
            f"{rss[0]} -> {max(rss)} KiB")
    return f.finish("soak")


if __name__ == "__main__":
    h.run_script(main)
