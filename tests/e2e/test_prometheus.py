#!/usr/bin/env python3
"""A real Prometheus (started here on 127.0.0.1 with a temporary config and
TSDB) scrapes the exporter every second: up == 1, linux_namespace_processes
has series of all eight types, the alert rules and the fleet recording rules
of deploy/prometheus load with health "ok", every name the recording rules
record has series, and tests/deploy/dashboard_queries.py passes (the
dashboards' panels on recording rules included) while the test holds a known
population (three nested pid namespaces, two nested user namespaces, two
`ip netns add` net namespaces). The fleet rules run from a copy whose group
interval is 2 s instead of the shipped minute, so that the test need not
wait minutes for them.

The same Prometheus also scrapes, for the pod and container dashboard, a
second exporter reading the fixture procfs of two Kubernetes pods
(tests/fixtures/proc/pods, as instance "fixture-node") and a static
kube-state-metrics fixture about those pods (their UIDs and container
ids): every panel of that dashboard returns the fixture's pods, containers
and namespaces, and nothing else."""

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import e2e_lib as lib
import nsexp_harness as h

PROMETHEUS = h.PROMETHEUS
TYPES = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}
# The fleet rules' group interval as shipped, and in the test's copy.
FLEET_INTERVAL = "interval: 1m"
FLEET_INTERVAL_TEST = "interval: 2s"


def fleet_rules_copy(source, tmp):
    """A copy of the fleet recording rules evaluated every 2 s, and the
    names they record."""
    with open(os.path.join(source, "deploy", "prometheus", "rules", "linux_namespace_fleet.yml")) as r:
        text = r.read()
    if text.count(FLEET_INTERVAL) != 1:
        raise RuntimeError(f"the fleet rules no longer have exactly one {FLEET_INTERVAL!r}; update this test")
    path = os.path.join(tmp, "linux_namespace_fleet.yml")
    with open(path, "w") as w:
        w.write(text.replace(FLEET_INTERVAL, FLEET_INTERVAL_TEST))
    records = re.findall(r"^\s*-\s*record:\s*(\S+)\s*$", text, re.M)
    return path, records



def main():
    args = lib.parse_args(__doc__)
    h.require_root("makes namespaces and runs ip netns")
    if not os.access(PROMETHEUS, os.X_OK):
        h.skip("no prometheus binary (Debian package prometheus)")
    source = os.path.abspath(args.source)
    rules = os.path.join(source, "deploy", "prometheus", "rules", "linux_namespace_alerts.yml")
    f = h.Failures()
    with open(os.path.join(source, h.PODS_KSM)) as k:
        ksm_text = k.read()
    ksm, ksm_port = h.serve_text(ksm_text)
    with tempfile.TemporaryDirectory(prefix="nsexp-e2e-prom-") as tmp, \
            lib.Population(netns=2) as pop, lib.Exporter(args.exporter) as exp, \
            lib.Exporter(args.exporter, f"--path.procfs={os.path.join(source, h.PODS_PROCFS)}") as pods:
        # One scrape a second, unless this host is so busy (another workload
        # with thousands of processes) that a scrape needs more than a third
        # of that: then a slower interval, so that no scrape times out.
        start = time.monotonic()
        exp.get("/metrics")
        interval = max(1, math.ceil(3 * (time.monotonic() - start)))
        print(f"scrape interval {interval}s")
        fleet, records = fleet_rules_copy(source, tmp)
        f.check(len(records) >= 10, f"fleet recording rules found: {records}")
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w") as c:
            c.write(f"""global:
  scrape_interval: {interval}s
  scrape_timeout: {interval}s
  evaluation_interval: 1s
rule_files:
  - {json.dumps(rules)}
  - {json.dumps(fleet)}
scrape_configs:
  - job_name: linux_namespace_exporter
    static_configs:
      - targets: ["127.0.0.1:{exp.port}"]
      # Sorts after 127.0.0.1:PORT, so that the dashboards' first node
      # (dashboard_queries.py's choice) stays the real one where the
      # Kubernetes fixture has nothing to show.
      - targets: ["127.0.0.1:{pods.port}"]
        labels:
          instance: fixture-node
  - job_name: kube-state-metrics
    static_configs:
      - targets: ["127.0.0.1:{ksm_port}"]
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
                up = h.prometheus_query(base, 'up')
                n = h.prometheus_query(base, 'count_over_time(up[1m])')
                return (up is not None and len(up) == 3 and all(r["value"][1] == "1" for r in up) and
                        n is not None and len(n) == 3 and all(float(r["value"][1]) >= 4 for r in n))
            f.check(h.wait_until(scraped, 10 + 6 * interval, 0.5),
                    "up == 1 after four scrapes of the exporter, the fixture exporter and kube-state-metrics")

            # The real exporter's series (the fixture's share inodes with the host).
            real = f'instance="127.0.0.1:{exp.port}"'
            types = {r["metric"]["type"] for r in
                     h.prometheus_query(base, f'linux_namespace_processes{{{real}}}') or []}
            f.equal(types, TYPES, "linux_namespace_processes types in Prometheus")
            for k, inode in enumerate(pop.pid_ns):
                r = h.prometheus_query(base, f'linux_namespace_depth{{{real},type="pid",inode="{inode}"}}'
                                f' - on() group_left linux_namespace_depth{{{real},type="pid",inode="{lib.ns_inode(os.getpid(), "pid")}"}}')
                f.check(r and float(r[0]["value"][1]) == k + 1, f"relative depth of pid level {k + 1}: {r}")
            for name in pop.netns:
                inode = os.stat(f"/run/netns/{name}").st_ino
                r = h.prometheus_query(base, f'linux_namespace_info{{{real},type="net",inode="{inode}"}}')
                f.check(r and r[0]["metric"].get("pid", "") == "",
                        f"bind-mounted netns {name} (net:[{inode}]) exported without a pid: {r}")

            status, _, body = h.http(f"{base}/api/v1/rules", timeout=20)
            f.equal(status, 200, "GET /api/v1/rules")
            groups = json.loads(body)["data"]["groups"] if status == 200 else []
            loaded = [r for g in groups for r in g["rules"]]
            f.check(loaded, "alert rules loaded")
            f.check(any(g["name"] == "linux_namespace_fleet" and g.get("interval") == 2 for g in groups),
                    f"fleet rules loaded, evaluated every 2 s: {[(g['name'], g.get('interval')) for g in groups]}")
            # Health is "unknown" until the first evaluation (every second).
            h.wait_until(lambda: all(r.get("health") == "ok" for r in _rules(base)), 10, 0.5)
            loaded = _rules(base)
            for r in loaded:
                f.equal(r.get("health"), "ok", f"rule {r.get('name')} health ({r.get('lastError', '')})")
            f.check({r.get("name") for r in loaded if r.get("type") == "recording"} == set(records),
                    "every fleet recording rule loaded")

            # Every recorded name has series (the dashboards read some),
            # the per-node ones for both exporters.
            def recorded():
                missing = []
                for name in records:
                    r = h.prometheus_query(base, name) or []
                    nodes = {x["metric"].get("instance") for x in r}
                    if not r or (name.startswith("instance") and len(nodes) < 2):
                        missing.append(name)
                return missing
            h.wait_until(lambda: not recorded(), 30, 0.5)
            missing = recorded()
            f.check(not missing, f"recorded series exist: missing {missing}")
            # The test's population: its two `ip netns add` namespaces have
            # no process and a bind mount.
            r = h.prometheus_query(base, f'instance:linux_network_namespaces_leaked:count{{{real}}}')
            f.check(r and float(r[0]["value"][1]) >= len(pop.netns),
                    f"leaked network namespaces recorded for the {len(pop.netns)} ip netns namespaces: {r}")

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
            check_pods_dashboard(f, base, source)
            f.check(exp.alive(), "exporter still running")
            f.check(pods.alive(), "fixture exporter still running")
        finally:
            prom.stop(timeout=20)
            ksm.shutdown()
    return f.finish("e2e prometheus")


# What each panel of the pod and container dashboard must show for the
# fixture: the panel's rows as tuples of the labels named first, each with
# its value. tests/fixtures/proc/pods: pod web-0 (team-a) shares one pid
# namespace between its pause sandbox and containers web and sidecar, and a
# process of web is in a pid and a user namespace of its own; pod db-0
# (team-b): its pause sandbox and container db. kube-state-metrics knows
# neither pause sandbox, and lists containers without a container_id.
WEB, DB = "web-0", "db-0"
POD_PANELS = {
    "Pods": ((), {(): 2}),
    "Containers": ((), {(): 5}),
    "Network namespaces of pods": ((), {(): 2}),
    "Containers unknown to kube-state-metrics": ((), {(): 2}),
    "Namespaces per pod and container": (
        ("pod", "container", "type", "inode"),
        {**{(WEB, "web", t, i): 2 for t, i in [("net", "4026533001"), ("uts", "4026533002"),
                                                ("ipc", "4026533003"), ("mnt", "4026533011"),
                                                ("cgroup", "4026531835"), ("time", "4026531834")]},
         (WEB, "web", "pid", "4026533004"): 1, (WEB, "web", "pid", "4026533005"): 1,
         (WEB, "web", "user", "4026531837"): 1, (WEB, "web", "user", "4026533006"): 1,
         **{(WEB, "sidecar", t, i): 1 for t, i in [("net", "4026533001"), ("uts", "4026533002"),
                                                    ("ipc", "4026533003"), ("mnt", "4026533012"),
                                                    ("pid", "4026533004"), ("user", "4026531837"),
                                                    ("cgroup", "4026531835"), ("time", "4026531834")]},
         **{(DB, "db", t, i): 1 for t, i in [("net", "4026533101"), ("uts", "4026533102"),
                                             ("ipc", "4026533103"), ("mnt", "4026533111"),
                                             ("pid", "4026533105"), ("user", "4026531837"),
                                             ("cgroup", "4026531835"), ("time", "4026531834")]}}),
    # The pause sandbox's process counts too.
    "Network namespaces per pod": (("namespace", "pod", "inode"),
                                   {("team-a", WEB, "4026533001"): 4, ("team-b", DB, "4026533101"): 2}),
    # Not the initial user namespace: processes outside containers are in it.
    "pid and user namespaces shared by containers": (("namespace", "pod", "type", "inode"),
                                                     {("team-a", WEB, "pid", "4026533004"): 2}),
    "Containers with nested pid or user namespaces": (("pod", "container", "type"),
                                                      {(WEB, "web", "pid"): 2, (WEB, "web", "user"): 2}),
}


def check_pods_dashboard(f, base, source):
    """Every panel of the pod and container dashboard, on the fixture node,
    returns exactly the fixture's rows."""
    sys.path.insert(0, os.path.join(source, "tests", "deploy"))
    import dashboard_queries as dq  # the same variable and target handling
    with open(os.path.join(source, "grafana-dashboards", "linux-namespace-pods.json")) as d:
        dashboard = json.load(d)
    values = {"datasource": "", "job": "linux_namespace_exporter", "instance": "fixture-node"}
    seen = set()
    for where, template in dq.expressions(dashboard):
        title = where.split("'")[1]
        seen.add(title)
        if not f.check(title in POD_PANELS, f"pods dashboard panel {title!r} has an expectation"):
            continue
        labels, want = POD_PANELS[title]
        rows = h.prometheus_query(base, dq.substitute(template, values))
        got = {tuple(r["metric"].get(l, "") for l in labels): float(r["value"][1]) for r in rows or []}
        f.equal(got, {k: float(v) for k, v in want.items()}, f"pods dashboard {where}")
    f.equal(seen, set(POD_PANELS), "pods dashboard panels checked")


def _rules(base):
    status, _, body = h.http(f"{base}/api/v1/rules", timeout=20)
    if status != 200:
        return []
    return [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]


if __name__ == "__main__":
    h.run_script(main)
