#!/usr/bin/env python3
"""A fleet, simulated on one machine: N exporters on loopback ports over the
same population of namespaced processes, one real Prometheus scraping all of
them with the shipped alert rules and fleet recording rules, and what that
costs Prometheus per node.

  sudo python3 bench/fleet.py --nodes 20,50

For each N (a fresh Prometheus each time): starts N exporters, waits for
--warmup scrape intervals, watches for --measure seconds, then reads from
Prometheus the series per node, head series, samples/s appended, its RSS,
rule evaluation times, and times every Grafana panel query (instant and
range) at N nodes. Beforehand, once: the exposition of one exporter in
several configurations (series and bytes, identity and gzip), the knobs
that bound cardinality. Prints Markdown tables and writes a JSON record.

Needs root (the population raises kernel.pid_max and namespace limits,
restored at the end, on Ctrl-C and by the next run after a SIGKILL).
Standard library only; reuses bench/nsbench and tests/deploy.
"""

import argparse
import datetime
import gzip
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.parse

sys.dont_write_bytecode = True  # keep the source tree clean

from nsbench import REPO  # noqa: E402  (also makes the test harness importable)
from nsbench.population import Limits, Population  # noqa: E402
from nsbench.system import (Interrupted, count_processes, die_with_parent, log,  # noqa: E402
                            mem_available_kib, on_signal, proc_cpu_seconds,
                            proc_status_kib)
from nsbench.tools import build_c_tools, cpu_model, tool_version  # noqa: E402

import nsexp_harness  # noqa: E402

sys.path.insert(0, os.path.join(REPO, "tests", "deploy"))
import dashboard_queries  # noqa: E402

RULES = os.path.join(REPO, "deploy", "prometheus", "rules")
RULE_FILES = [os.path.join(RULES, "linux_namespace_alerts.yml"),
              os.path.join(RULES, "linux_namespace_fleet.yml")]
JOB = "linux_namespace_exporter"

# Exporter configurations whose exposition is measured once (the knobs of
# README "Configuration file" that bound cardinality).
VARIANTS = [
    ("default", ""),
    ("per_namespace_series: false", "metrics:\n  per_namespace_series: false\n"),
    ("exclude_types: [cgroup, ipc, mnt, time, uts]",
     "filters:\n  exclude_types: [cgroup, ipc, mnt, time, uts]\n"),
    ("collection.types: [net, pid, user]",
     "collection:\n  types: [net, pid, user]\n"),
]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


class Prom:
    """The HTTP API of the Prometheus under test."""

    def __init__(self, base):
        self.base = base

    def get(self, path, params, timeout=120):
        url = f"{self.base}{path}?" + urllib.parse.urlencode(params)
        t0 = time.perf_counter()
        status, _, body = nsexp_harness.http(url, timeout=timeout)
        took = time.perf_counter() - t0
        data = json.loads(body)
        if status != 200 or data.get("status") != "success":
            raise RuntimeError(f"{data.get('error', status)} ({path} {params})")
        return data["data"], took

    def vector(self, expr):
        data, _ = self.get("/api/v1/query", {"query": expr})
        return data["result"]

    def scalar(self, expr):
        r = self.vector(expr)
        return float(r[0]["value"][1]) if r else float("nan")


def scrape_sizes(url):
    """(samples, identity bytes, gzip bytes on the wire) of one /metrics."""
    status, _, body = nsexp_harness.http(url, timeout=60)
    if status != 200:
        raise RuntimeError(f"{url} returned {status}")
    samples = sum(1 for l in body.split(b"\n") if l and not l.startswith(b"#"))
    status, headers, zbody = nsexp_harness.http(url, headers={"Accept-Encoding": "gzip"},
                                                timeout=60)
    if headers.get("Content-Encoding") != "gzip":
        zbody = gzip.compress(body)  # not served compressed: what gzip would make
    return samples, len(body), len(zbody)


def start_exporter(args, work, name, config_text=None):
    argv_extra = []
    if config_text is not None:
        path = os.path.join(work, f"{name}.yml")
        with open(path, "w") as f:
            f.write(config_text or "{}\n")
        argv_extra.append(f"--config.file={path}")
    e = nsexp_harness.Exporter(args.exporter, *argv_extra,
                               log_path=os.path.join(work, f"{name}.log"),
                               preexec=die_with_parent, start_timeout=30)
    return e.start()


def measure_variants(args, work):
    """Series and body sizes of one exporter per configuration variant."""
    rows = []
    for label, text in VARIANTS:
        e = start_exporter(args, work, "variant", text)
        try:
            scrape_sizes(e.url())  # the first collection warms the caches
            samples, identity, gz = scrape_sizes(e.url())
        finally:
            e.stop()
        rows.append({"config": label, "samples": samples, "identity_bytes": identity,
                     "gzip_bytes": gz})
        log(f"variant {label}: {samples} samples, {identity} B identity, {gz} B gzip")
    return rows


def prometheus_config(path, ports, args):
    """Scrape config: the exporters in clusters of --cluster-size nodes
    (target label cluster), and Prometheus itself."""
    lines = [
        "global:",
        f"  scrape_interval: {args.interval}s",
        f"  evaluation_interval: {args.interval}s",
        f"  scrape_timeout: {min(10, args.interval)}s",
        "rule_files:",
        *[f"  - {r}" for r in RULE_FILES],
        "scrape_configs:",
        f"  - job_name: {JOB}",
        "    static_configs:",
    ]
    for c in range(0, len(ports), args.cluster_size):
        lines += ["      - targets:",
                  *[f"          - 127.0.0.1:{p}" for p in ports[c:c + args.cluster_size]],
                  "        labels:",
                  f"          cluster: c{c // args.cluster_size + 1:02d}"]
    lines += ["  - job_name: prometheus", "    static_configs:",
              "      - targets: ['PROMETHEUS_SELF']"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def dashboard_expressions(prom_url, every_node):
    """(dashboard, where, expr) for every panel target, variables resolved
    as tests/deploy/dashboard_queries.py resolves them (one node, one type),
    or with every_node, as Grafana's "All" (.*) for every query variable
    that offers it (includeAll) but the job; the others keep one value."""
    p = dashboard_queries.Prometheus(prom_url, 120)
    out = []
    for path in sorted(os.listdir(dashboard_queries.DASHBOARD_DIR)):
        if not path.endswith(".json"):
            continue
        with open(os.path.join(dashboard_queries.DASHBOARD_DIR, path), encoding="utf-8") as f:
            dashboard = json.load(f)
        values = {}
        for v in dashboard.get("templating", {}).get("list", []):
            name, vtype = v.get("name"), v.get("type")
            if vtype == "query" and every_node and name != "job" and v.get("includeAll"):
                values[name] = ".*"
            elif vtype == "query":
                try:
                    found, _, _ = dashboard_queries.resolve_variable(p, v, values)
                except RuntimeError:
                    found = []
                current = (v.get("current") or {}).get("value")
                if isinstance(current, list):
                    current = current[0] if current else None
                values[name] = current if current in found else (found[0] if found else "")
            elif vtype == "custom":
                opts = [o.strip() for o in str(v.get("query", "")).split(",") if o.strip()]
                values[name] = opts[0] if opts else ""
            elif vtype in ("constant", "textbox"):
                values[name] = str(v.get("query", ""))
            else:
                values[name] = ""
        for where, template in dashboard_queries.expressions(dashboard):
            out.append((path, where, dashboard_queries.substitute(template, values)))
    return out


def time_queries(prom, exprs, reps, range_seconds, step, budget):
    """Each expression as an instant query and as a range query over the
    last range_seconds, up to reps times each: median and max seconds. A
    query gets Prometheus' timeout of `budget` seconds, and no further
    repetition once it has used that much in all."""
    rows = []
    for dash, where, expr in exprs:
        inst, rng, results, error = [], [], 0, ""
        spent = 0.0
        for _ in range(reps):
            try:
                data, took = prom.get("/api/v1/query", {"query": expr, "timeout": f"{budget}s"})
                inst.append(took)
                results = len(data["result"]) if isinstance(data["result"], list) else 1
                end = time.time()
                _, took2 = prom.get("/api/v1/query_range", {
                    "query": expr, "start": end - range_seconds, "end": end, "step": step,
                    "timeout": f"{budget}s"})
                rng.append(took2)
                spent += took + took2
            except (RuntimeError, OSError, ValueError) as e:
                error = str(e)[:200]
                break
            if spent >= budget:
                break
        rows.append({"dashboard": dash, "panel": where, "expr": expr, "results": results,
                     "instant_median": median(inst), "instant_max": max(inst, default=float("nan")),
                     "range_median": median(rng), "range_max": max(rng, default=float("nan")),
                     "error": error})
    return rows


def top_up(args, population):
    """Grows the population so that the host has --processes processes
    (other programs' processes count: they come and go)."""
    want = population.created + max(0, args.processes - count_processes())
    if want > population.created:
        made, sets, failed = population.grow(want)
        time.sleep(3)
        log(f"population: {made} processes in {sets} sets ({failed} failed)")
    log(f"{count_processes()} processes on the host")


def run_fleet(args, work, n, population, fleets):
    """One fleet of n nodes; its record is appended to fleets at once, so
    what was measured survives an interruption."""
    top_up(args, population)
    log(f"fleet of {n}: starting {n} exporters")
    exporters, prometheus = [], None
    rec = {"nodes": n, "queries_one_node": [], "queries_all_nodes": []}
    try:
        config = (f"collection:\n  min_interval: {args.min_interval}s\n"
                  if args.min_interval else None)
        for i in range(n):
            exporters.append(start_exporter(args, work, f"node{i:03d}", config))
        ports = [e.port for e in exporters]
        d = os.path.join(work, f"prometheus.{n}")
        os.makedirs(d)
        config = os.path.join(d, "prometheus.yml")
        prometheus_config(config, ports, args)
        prometheus, base = nsexp_harness.prometheus_server(config, d)
        with open(config) as f:
            text = f.read().replace("PROMETHEUS_SELF", base.split("//", 1)[1])
        with open(config, "w") as f:
            f.write(text)
        prometheus._preexec = die_with_parent
        prometheus.start()
        prom = Prom(base)
        t_start = time.time()
        log(f"fleet of {n}: Prometheus at {base}; warm-up {args.warmup} scrapes")
        up_expr = f'count(up{{job="{JOB}"}} == 1)'
        if not nsexp_harness.wait_until(lambda: prom.scalar(up_expr) == n,
                                        args.interval * (args.warmup + 2), interval=2):
            rec["note"] = f"only {prom.scalar(up_expr):.0f} of {n} targets up after the warm-up"
            log(rec["note"])
        time.sleep(max(0, t_start + args.warmup * args.interval - time.time()))

        pid = prometheus.proc.pid
        cpu0 = proc_cpu_seconds(pid)
        ecpu0 = sum(proc_cpu_seconds(e.proc.pid) for e in exporters)
        t0 = time.time()
        rss = []
        log(f"fleet of {n}: measuring for {args.measure} s")
        while time.time() - t0 < args.measure:
            rss.append(proc_status_kib(pid, "VmRSS"))
            time.sleep(5)
        wall = time.time() - t0
        rec["prometheus_cpu"] = (proc_cpu_seconds(pid) - cpu0) / wall
        rec["exporters_cpu"] = (sum(proc_cpu_seconds(e.proc.pid) for e in exporters) - ecpu0) / wall
        rec["prometheus_rss_kib_end"] = rss[-1]
        rec["prometheus_rss_kib_max"] = max(rss)
        rec["prometheus_hwm_kib"] = proc_status_kib(pid, "VmHWM")
        rec["wall_seconds"] = wall
        with open("/proc/loadavg") as f:
            rec["loadavg"] = float(f.read().split()[1])  # 5 minutes
        w = f"{int(wall)}s"
        per_node = [float(s["value"][1]) for s in
                    prom.vector(f'scrape_samples_scraped{{job="{JOB}"}}')]
        rec["series_per_node_median"] = median(per_node)
        rec["series_per_node_max"] = max(per_node, default=float("nan"))
        rec["targets_up"] = prom.scalar(f'sum(up{{job="{JOB}"}})')
        rec["head_series"] = prom.scalar("prometheus_tsdb_head_series")
        rec["samples_per_second"] = prom.scalar(
            f"rate(prometheus_tsdb_head_samples_appended_total[{w}])")
        rec["process_resident_memory_bytes"] = prom.scalar(
            'process_resident_memory_bytes{job="prometheus"}')
        rec["go_heap_inuse_bytes"] = prom.scalar('go_memstats_heap_inuse_bytes{job="prometheus"}')
        rec["scrape_duration_median"] = prom.scalar(
            f'quantile(0.5, scrape_duration_seconds{{job="{JOB}"}})')
        rec["scrape_duration_max"] = prom.scalar(
            f'max(max_over_time(scrape_duration_seconds{{job="{JOB}"}}[{w}]))')
        rec["collection_seconds_median"] = prom.scalar(
            f"quantile(0.5, linux_namespace_exporter_scrape_duration_seconds)")
        rec["missed_scrapes"] = prom.scalar(
            f'sum(count_over_time(up{{job="{JOB}"}}[{w}]) - sum_over_time(up{{job="{JOB}"}}[{w}]))')
        rec["rule_groups"] = {
            s["metric"].get("rule_group", "?").rsplit(";", 1)[-1]: float(s["value"][1])
            for s in prom.vector(f"max_over_time(prometheus_rule_group_last_duration_seconds[{w}])")}
        fleets.append(rec)
        rec["processes_scanned_min"] = prom.scalar(
            f"min(min_over_time(linux_namespace_exporter_processes_scanned[{w}]))")
        rec["processes_scanned_max"] = prom.scalar(
            f"max(max_over_time(linux_namespace_exporter_processes_scanned[{w}]))")
        rules, _ = prom.get("/api/v1/rules", {})
        rec["rules"] = {r.get("name"): r.get("evaluationTime", float("nan"))
                        for g in rules["groups"] for r in g["rules"]}
        rec["fleet_series"] = prom.scalar(
            'count({__name__=~"(instance|cluster)(_type)?:linux_.*"})')
        # Dashboard queries at n nodes, instant and over the measured window.
        for key, every in (("queries_one_node", False), ("queries_all_nodes", True)):
            exprs = dashboard_expressions(base, every)
            log(f"fleet of {n}: timing {len(exprs)} dashboard queries x {args.reps} ({key})")
            rec[key] = time_queries(prom, exprs, args.reps, max(60, int(wall)), args.interval,
                                    args.query_budget)
    finally:
        if prometheus is not None:
            prometheus.stop(timeout=30)
            shutil.rmtree(os.path.join(work, f"prometheus.{n}", "data"), ignore_errors=True)
        for e in exporters:
            e.stop()


def fmt_bytes(b):
    return f"{b / 2**20:.1f} MiB" if b >= 2**20 else f"{b / 1024:.1f} KiB"


def markdown(meta, variants, fleets):
    fleets = [f for f in fleets if "fleet_series" in f]  # measured to the end
    out = [f"Run {meta['date']}: {meta['processes']} processes on the host "
           f"({meta['populated']} made), {meta['cpus']} CPUs ({meta['cpu_model']}), "
           f"{meta['mem_gib']:.1f} GiB, kernel {meta['kernel']}, {meta['prometheus']}, "
           f"scrape and rule interval {meta['interval']} s, clusters of {meta['cluster_size']} nodes, "
           f"exporters' collection.min_interval {meta.get('min_interval', 0)} s.",
           "", "One exporter's exposition per configuration:", "",
           "| configuration | samples | identity | gzip |", "| --- | ---: | ---: | ---: |"]
    for v in variants:
        out.append(f"| `{v['config']}` | {v['samples']} | {fmt_bytes(v['identity_bytes'])} | "
                   f"{fmt_bytes(v['gzip_bytes'])} |")
    out += ["", "| nodes | series/node | head series | samples/s | Prometheus RSS (end / max) "
            "| RSS per node | bytes per head series | Prometheus CPU | exporters' CPU "
            "| scrape median / max (s) | rule groups (s) |",
            "| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |"]
    for f in fleets:
        rss = f["prometheus_rss_kib_end"] * 1024
        groups = ", ".join(f"{k} {v:.3f}" for k, v in sorted(f["rule_groups"].items()))
        out.append(
            f"| {f['nodes']} | {f['series_per_node_median']:.0f} | {f['head_series']:.0f} | "
            f"{f['samples_per_second']:.0f} | {fmt_bytes(rss)} / "
            f"{fmt_bytes(f['prometheus_rss_kib_max'] * 1024)} | {fmt_bytes(rss / f['nodes'])} | "
            f"{rss / f['head_series']:.0f} | {f['prometheus_cpu']:.2f} | {f['exporters_cpu']:.2f} | "
            f"{f['scrape_duration_median']:.3f} / {f['scrape_duration_max']:.3f} | {groups} |")
    out += ["", "Load average (5 min) at the end of each measurement: "
            + ", ".join(f"{f['loadavg']:.1f} at {f['nodes']} nodes" for f in fleets) + "."]
    for f in fleets:
        slow = sorted(f["rules"].items(), key=lambda kv: -kv[1])[:6]
        out += ["", f"At {f['nodes']} nodes: processes scanned per node "
                f"{f['processes_scanned_min']:.0f}..{f['processes_scanned_max']:.0f}, "
                f"{f['fleet_series']:.0f} fleet recording-rule series, missed scrapes "
                f"{f['missed_scrapes']:.0f}, collection median "
                f"{f['collection_seconds_median']:.3f} s{'; ' + f['note'] if f.get('note') else ''}. "
                "Slowest rules (last evaluation): "
                + ", ".join(f"`{k}` {v * 1e3:.0f} ms" for k, v in slow) + "."]
    for f, key in [(f, k) for f in fleets for k in ("queries_one_node", "queries_all_nodes")]:
        q = f[key]
        scope = "one node selected" if key == "queries_one_node" else "all nodes and types selected"
        out += ["", f"Dashboard queries at {f['nodes']} nodes, {scope} ({len(q)} panel targets; "
                f"instant, and range over the measured window at a {meta['interval']} s step):", "",
                "| dashboard | panel | results | instant median / max (ms) | range median / max (ms) |",
                "| --- | --- | ---: | ---: | ---: |"]
        for r in sorted(q, key=lambda r: -(r["range_max"] if r["range_max"] == r["range_max"] else 0)):
            panel = r["panel"].replace("|", "/")
            err = f" ERROR {r['error']}" if r["error"] else ""
            out.append(f"| {r['dashboard']} | {panel}{err} | {r['results']} | "
                       f"{r['instant_median'] * 1e3:.0f} / {r['instant_max'] * 1e3:.0f} | "
                       f"{r['range_median'] * 1e3:.0f} / {r['range_max'] * 1e3:.0f} |")
        allq = [r["instant_median"] for r in q if r["instant_median"] == r["instant_median"]]
        allr = [r["range_median"] for r in q if r["range_median"] == r["range_median"]]
        out += ["", f"All panels: instant median {median(allq) * 1e3:.0f} ms, max "
                f"{max(allq, default=0) * 1e3:.0f} ms; range median {median(allr) * 1e3:.0f} ms, "
                f"max {max(allr, default=0) * 1e3:.0f} ms."]
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", default="20", help="fleet sizes, comma-separated (default %(default)s)")
    p.add_argument("--processes", type=int, default=10000,
                   help="processes on the host during the run (default %(default)s)")
    p.add_argument("--set-size", type=int, default=8, help="processes per set of namespaces")
    p.add_argument("--interval", type=int, default=15, help="scrape and rule interval, seconds")
    p.add_argument("--warmup", type=int, default=3, help="scrape intervals before measuring")
    p.add_argument("--measure", type=int, default=180, help="seconds measured per fleet size")
    p.add_argument("--min-interval", type=int, default=0,
                   help="collection.min_interval of the fleet's exporters, seconds: with 60, "
                        "each collects once a minute and answers the scrapes between from it, "
                        "so more of them fit on the machine (the series are the same)")
    p.add_argument("--cluster-size", type=int, default=10, help="nodes per cluster label")
    p.add_argument("--reps", type=int, default=3, help="timings per dashboard query")
    p.add_argument("--query-budget", type=int, default=20,
                   help="seconds per dashboard query: its timeout, and no more reps beyond")
    p.add_argument("--exporter", default=os.path.join(REPO, "build", "linux_namespace_exporter"))
    p.add_argument("--json", default=None, help="where to write the record (default: scratch dir)")
    p.add_argument("--keep-work", action="store_true", help="keep the scratch directory")
    args = p.parse_args()
    sizes = [int(x) for x in args.nodes.split(",")]
    if os.geteuid() != 0:
        print("run as root: sudo python3 bench/fleet.py", file=sys.stderr)
        return 1
    for tool in ("cc",):
        if not shutil.which(tool):
            print(f"missing {tool}", file=sys.stderr)
            return 1
    if not os.path.exists(args.exporter):
        print(f"exporter not found at {args.exporter} (--exporter)", file=sys.stderr)
        return 1
    if not os.path.exists(nsexp_harness.PROMETHEUS):
        print("prometheus not found (Debian package prometheus)", file=sys.stderr)
        return 1

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    started = time.time()
    work = tempfile.mkdtemp(prefix="nsfleet.")
    limits = Limits()
    population = None
    status = 0
    variants, fleets = [], []
    meta = {}
    try:
        build_c_tools(work)
        cap = min(limits.prepare(args.processes), int(mem_available_kib() * 0.5 / 160))
        for note in limits.notes:
            log(note)
        population = Population(os.path.join(work, "populate"), args.set_size, work)
        population.start()
        args.processes = min(args.processes, cap)
        top_up(args, population)
        meta = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "processes": count_processes(), "populated": population.created, "cpus": os.cpu_count(),
            "cpu_model": cpu_model(),
            "mem_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
            "kernel": platform.release(),
            "prometheus": tool_version([nsexp_harness.PROMETHEUS, "--version"]),
            "exporter": tool_version([args.exporter, "--version"]),
            "interval": args.interval, "cluster_size": args.cluster_size,
            "min_interval": args.min_interval,
            "limits": limits.notes}
        variants = measure_variants(args, work)
        for n in sizes:
            run_fleet(args, work, n, population, fleets)
    except Interrupted as e:
        log(f"interrupted ({e}): cleaning up")
        status = 130
    except Exception as e:  # report, then clean up below
        log(f"error: {type(e).__name__}: {e}")
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if population:
            left = population.close()
            log("population removed" if left == 0 else
                f"warning: {left} population processes still alive")
        limits.restore()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    if variants or fleets:
        record = {"meta": meta, "variants": variants, "fleets": fleets}
        path = args.json or os.path.join(work, "fleet.json")
        with open(path, "w") as f:
            json.dump(record, f, indent=1)
        print()
        print(markdown(meta, variants, fleets))
        log(f"record: {path}")
    if not args.keep_work and not args.json and not (variants or fleets):
        shutil.rmtree(work, ignore_errors=True)
    log(f"done in {time.time() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
