#!/usr/bin/env python3
"""Churn soak: the exporter on the real /proc while tests/soak/churn.c
creates and destroys processes and namespaces of all eight types (nested
pid and user, bind-mounted net namespaces); one client scrapes /metrics
every 100 ms, another asks for /tree every second.

Reports (stderr, and --report FILE as JSON): the churn rate reached,
scrapes and /tree requests with their failures (goal 0), exposition errors
(a sample of the bodies through `promtool check metrics`, every body
through the harness parser), and the exporter's RSS and open fds after
warm-up (goal flat). Fails on any failed request, any exposition error, an
fd floor (fds between collections) that rises after warm-up, or RSS growth
beyond --rss-growth-mib.

CTest runs 60 s; the long run of docs/reliability.md:

    PYTHONPATH=tests/harness python3 tests/soak/soak_test.py \\
        --exporter build/linux_namespace_exporter --churn build/tests/soak/churn \\
        --seconds 600 --report soak.json
"""

import argparse
import json
import os
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


class Client(threading.Thread):
    """Asks for `path` every `interval` seconds until stopped; counts
    failures (non-200, timeout, unparsable body)."""

    def __init__(self, exp, path, interval, stop, check=None):
        super().__init__(daemon=True)
        self.exp, self.path, self.interval = exp, path, interval
        self.stop, self.check = stop, check
        self.requests = self.failures = 0
        self.latencies = []
        self.first_failure = ""

    def run(self):
        next_at = time.monotonic()
        while not self.stop.is_set():
            t0 = time.monotonic()
            self.requests += 1
            try:
                status, _, body = self.exp.get(self.path, timeout=10)
                if status != 200:
                    raise AssertionError(f"status {status}")
                if self.check:
                    self.check(body)
            except Exception as err:  # noqa: BLE001 -- counted, reported
                self.failures += 1
                if not self.first_failure:
                    self.first_failure = f"{self.path}: {err}"
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
    log = os.path.join(tempfile.mkdtemp(prefix="nsexp-soak-"), "exporter.log")
    exp = h.Exporter(args.exporter, log_path=log)
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

    def check_tree(body):
        json.loads(body)

    churn = subprocess.Popen(
        [unshare, "--mount", "--propagation", "private", "--",
         args.churn, str(args.seconds), str(args.trees_per_second)],
        stdout=subprocess.PIPE, text=True)
    stop = threading.Event()
    clients = [Client(exp, "/metrics", 0.1, stop, check_metrics),
               Client(exp, "/tree?format=json", 1.0, stop, check_tree)]
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
