#!/usr/bin/env python3
"""A real Prometheus (started here on 127.0.0.1 with a temporary config and
TSDB) scrapes the exporter every second: up == 1, linux_namespace_processes
has series of all eight types, the alert rules of deploy/prometheus load with
health "ok", and tests/deploy/dashboard_queries.py passes while the test
holds a known population (three nested pid namespaces, two nested user
namespaces, two `ip netns add` net namespaces)."""

import json
import math
import os
import subprocess
import sys
import tempfile
import time

import e2e_lib as lib
import nsexp_harness as h

PROMETHEUS = h.PROMETHEUS
TYPES = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}



def main():
    args = lib.parse_args(__doc__)
    h.require_root("makes namespaces and runs ip netns")
    if not os.access(PROMETHEUS, os.X_OK):
        h.skip("no prometheus binary (Debian package prometheus)")
    source = os.path.abspath(args.source)
    rules = os.path.join(source, "deploy", "prometheus", "rules", "linux_namespace_alerts.yml")
    f = h.Failures()
    with tempfile.TemporaryDirectory(prefix="nsexp-e2e-prom-") as tmp, \
            lib.Population(netns=2) as pop, lib.Exporter(args.exporter) as exp:
        # One scrape a second, unless this host is so busy (another workload
        # with thousands of processes) that a scrape needs more than a third
        # of that: then a slower interval, so that no scrape times out.
        start = time.monotonic()
        exp.get("/metrics")
        interval = max(1, math.ceil(3 * (time.monotonic() - start)))
        print(f"scrape interval {interval}s")
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w") as c:
            c.write(f"""global:
  scrape_interval: {interval}s
  scrape_timeout: {interval}s
  evaluation_interval: 1s
rule_files:
  - {json.dumps(rules)}
scrape_configs:
  - job_name: linux_namespace_exporter
    static_configs:
      - targets: ["127.0.0.1:{exp.port}"]
""")
        prom, base = h.prometheus_server(config, tmp)
        try:
            prom.start()
        except RuntimeError as e:
            f.check(False, f"Prometheus became ready: {e}")
            return f.finish("e2e prometheus")
        try:
            # Enough scrapes for rate() and deriv() (two samples in range).
            def scraped():
                up = h.prometheus_query(base, 'up{job="linux_namespace_exporter"}')
                n = h.prometheus_query(base, 'count_over_time(up{job="linux_namespace_exporter"}[1m])')
                return up and up[0]["value"][1] == "1" and n and float(n[0]["value"][1]) >= 4
            f.check(h.wait_until(scraped, 10 + 6 * interval, 0.5), "up == 1 after four scrapes")

            types = {r["metric"]["type"] for r in h.prometheus_query(base, "linux_namespace_processes") or []}
            f.equal(types, TYPES, "linux_namespace_processes types in Prometheus")
            for k, inode in enumerate(pop.pid_ns):
                r = h.prometheus_query(base, f'linux_namespace_depth{{type="pid",inode="{inode}"}}'
                                f' - on() group_left linux_namespace_depth{{type="pid",inode="{lib.ns_inode(os.getpid(), "pid")}"}}')
                f.check(r and float(r[0]["value"][1]) == k + 1, f"relative depth of pid level {k + 1}: {r}")
            for name in pop.netns:
                inode = os.stat(f"/run/netns/{name}").st_ino
                r = h.prometheus_query(base, f'linux_namespace_info{{type="net",inode="{inode}"}}')
                f.check(r and r[0]["metric"].get("pid", "") == "",
                        f"bind-mounted netns {name} (net:[{inode}]) exported without a pid: {r}")

            status, _, body = h.http(f"{base}/api/v1/rules", timeout=20)
            f.equal(status, 200, "GET /api/v1/rules")
            groups = json.loads(body)["data"]["groups"] if status == 200 else []
            loaded = [r for g in groups for r in g["rules"]]
            f.check(loaded, "alert rules loaded")
            # Health is "unknown" until the first evaluation (every second).
            h.wait_until(lambda: all(r.get("health") == "ok" for r in _rules(base)), 10, 0.5)
            loaded = _rules(base)
            for r in loaded:
                f.equal(r.get("health"), "ok", f"rule {r.get('name')} health ({r.get('lastError', '')})")

            # A scrape that fails on a loaded host makes every series stale
            # for one interval; try again after the next good scrape.
            for attempt in range(3):
                h.wait_until(lambda: (h.prometheus_query(base, 'up{job="linux_namespace_exporter"}') or
                                      [{"value": [0, "0"]}])[0]["value"][1] == "1", 5 * interval, 0.2)
                dq = subprocess.run([sys.executable,
                                     os.path.join(source, "tests", "deploy", "dashboard_queries.py"),
                                     "--url", base],
                                    capture_output=True, text=True, timeout=120,
                                    env=dict(os.environ, NSEXP_SOURCE_DIR=source))
                if dq.returncode == 0:
                    break
                print(f"dashboard_queries.py attempt {attempt + 1} failed")
            print(dq.stdout[-4000:])
            f.check(dq.returncode == 0, f"dashboard_queries.py exit {dq.returncode}: {dq.stderr[-2000:]}")
            f.check(exp.alive(), "exporter still running")
        finally:
            prom.stop(timeout=20)
    return f.finish("e2e prometheus")


def _rules(base):
    status, _, body = h.http(f"{base}/api/v1/rules", timeout=20)
    if status != 200:
        return []
    return [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]


if __name__ == "__main__":
    h.run_script(main)
