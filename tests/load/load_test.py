#!/usr/bin/env python3
"""Load: wrk with 8 connections on /metrics (0 errors, latency percentiles
reported), then a slowloris client holding connections that trickle their
headers, up to the worker pool minus a margin (scrapes still succeed within
2x their median), and beyond the pool (the documented behaviour: CivetWeb
queues the scrape until a worker frees, which the request timeout bounds;
never a hang past it).

The pool is WebOptions::worker_threads (32) and the bound the request
timeout (5 s). CTest runs wrk for 20 s; by hand, longer:

    PYTHONPATH=tests/harness python3 tests/load/load_test.py \\
        --exporter build/linux_namespace_exporter --seconds 60 --report load.json
"""

import argparse
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import nsexp_harness as h

POOL = 32                 # WebOptions::worker_threads
REQUEST_TIMEOUT = 5.0     # WebOptions::request_timeout_ms, seconds
MARGIN = 4


def parse_wrk(text):
    """Requests, errors and latency percentiles (ms) from wrk --latency."""
    out = {"requests": 0, "errors": 0, "latency_ms": {}}
    m = re.search(r"(\d+) requests in", text)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", text)
    if m:
        out["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["errors"] += int(m.group(1))
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
    for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M):
        out["latency_ms"][f"p{p}"] = round(float(v) * unit[u], 2)
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["requests_per_second"] = float(m.group(1))
    return out


class Slowloris:
    """Keeps `count` connections open, each sending a request line and then
    one header line a second, never finishing; reopens those the server
    closes (after the request timeout)."""

    def __init__(self, port, count):
        self.port, self.count = port, count
        self.stop = threading.Event()
        self.opened = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: slow\r\n")
        self.opened += 1
        return s

    def run(self):
        socks = []
        while not self.stop.is_set():
            alive = []
            for s in socks:
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                    alive.append(s)
                except OSError:
                    s.close()
            socks = alive
            while len(socks) < self.count and not self.stop.is_set():
                try:
                    socks.append(self.connect())
                except OSError:
                    break
            self.stop.wait(1.0)
        for s in socks:
            s.close()

    def __enter__(self):
        self.thread.start()
        h.wait_until(lambda: self.opened >= self.count, 10)
        time.sleep(0.5)  # the server has accepted them
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


def timed_scrapes(exp, n):
    """n sequential scrapes: (statuses, seconds each)."""
    statuses, times = [], []
    for _ in range(n):
        t0 = time.monotonic()
        try:
            status, _, _ = exp.get("/metrics", timeout=30)
        except OSError as err:
            status = str(err)
        times.append(time.monotonic() - t0)
        statuses.append(status)
    return statuses, times


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--exporter", required=True)
    p.add_argument("--seconds", type=int, default=20)
    p.add_argument("--report")
    args = p.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        h.skip("wrk not installed (Debian package wrk)")
    f = h.Failures()
    log = tempfile.mkdtemp(prefix="nsexp-load-") + "/exporter.log"
    exp = h.Exporter(args.exporter, log_path=log)
    exp.start()
    report = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        r = subprocess.run([wrk, "-t2", "-c8", f"-d{args.seconds}s", "--latency",
                            "--timeout", "10s", exp.url("/metrics")],
                           capture_output=True, text=True,
                           timeout=args.seconds + 60)
        report["wrk"] = parse_wrk(r.stdout)
        f.equal(r.returncode, 0, "wrk exit")
        f.check(report["wrk"]["requests"] > 0, "wrk made requests")
        f.equal(report["wrk"]["errors"], 0, "wrk errors")
        f.check("p50" in report["wrk"]["latency_ms"],
                f"latency percentiles: {r.stdout[-400:]}")

        base_status, base = timed_scrapes(exp, 20)
        base_median = statistics.median(base)
        f.check(all(s == 200 for s in base_status), f"baseline scrapes {base_status}")
        with Slowloris(exp.port, POOL - MARGIN):
            held_status, held = timed_scrapes(exp, 20)
        held_median = statistics.median(held)
        report["slowloris_below_pool"] = {
            "connections": POOL - MARGIN,
            "baseline_median_ms": round(1000 * base_median, 1),
            "median_ms": round(1000 * held_median, 1),
            "max_ms": round(1000 * max(held), 1)}
        f.check(all(s == 200 for s in held_status),
                f"scrapes beside {POOL - MARGIN} slow connections: {held_status}")
        # 2x the median, plus 20 ms for a busy shared machine's noise.
        f.check(held_median <= 2 * base_median + 0.02,
                f"median {held_median:.3f} s within 2x {base_median:.3f} s")

        with Slowloris(exp.port, POOL + 8):
            over_status, over = timed_scrapes(exp, 3)
        report["slowloris_beyond_pool"] = {
            "connections": POOL + 8,
            "statuses": over_status,
            "seconds": [round(t, 2) for t in over]}
        f.check(all(s == 200 for s in over_status),
                f"scrapes queued beyond the pool are answered: {over_status}")
        f.check(max(over) <= REQUEST_TIMEOUT + 5,
                f"no wait past the request timeout: {max(over):.1f} s")
        f.check(exp.alive(), "the exporter survived")
        status, _, _ = exp.get("/metrics", timeout=30)
        f.equal(status, 200, "a scrape after the load")
    finally:
        exp.stop()
    print(json.dumps(report, indent=2), file=sys.stderr)
    if args.report:
        with open(args.report, "w") as out:
            json.dump(report, out, indent=2)
    return f.finish("load")


if __name__ == "__main__":
    h.run_script(main)
